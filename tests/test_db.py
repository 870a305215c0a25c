"""The engine the service uses: a database error names the statement, never the values
it carried (a customer's words would end up in logs above DEBUG)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from omnidesk.helpdesk.models import Contact
from tests.conftest import Database

WORDS = "my card number is 4111 and my address is 1 Secret Lane"


async def test_a_database_error_leaves_the_values_out(db: Database) -> None:
    async with db.sessionmaker() as session:
        session.add(Contact(id=1, name=WORDS))
        await session.commit()
    async with db.sessionmaker() as session:
        session.add(Contact(id=1, name=WORDS))
        with pytest.raises(IntegrityError) as caught:
            await session.commit()
    assert "Secret Lane" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)
