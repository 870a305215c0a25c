"""The example-questions benchmark's data: the bank FAQ's articles with BANKING77 questions
as their example questions, and the tuning and reported splits (bench/data/README.md)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnidesk.knowledge import ArticleInput

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES, TUNE = 6, 3  # per intent: 6 example questions, 3 tuning, the rest (5) reported

# BANKING77 intent -> its article in bank_faq.json.
INTENT_SLUGS = {
    "activate_my_card": "activate-card", "age_limit": "age-limit",
    "apple_pay_or_google_pay": "apple-google-pay", "atm_support": "atm-support",
    "automatic_top_up": "automatic-top-up",
    "balance_not_updated_after_bank_transfer": "balance-after-bank-transfer",
    "balance_not_updated_after_cheque_or_cash_deposit": "balance-after-cheque-or-cash",
    "beneficiary_not_allowed": "beneficiary-not-allowed", "cancel_transfer": "cancel-transfer",
    "card_about_to_expire": "card-about-to-expire", "card_acceptance": "card-acceptance",
    "card_arrival": "card-arrival", "card_delivery_estimate": "card-delivery-estimate",
    "card_linking": "card-linking", "card_not_working": "card-not-working",
    "card_payment_fee_charged": "card-payment-fee",
    "card_payment_not_recognised": "card-payment-not-recognised",
    "card_payment_wrong_exchange_rate": "card-payment-exchange-rate",
    "card_swallowed": "card-swallowed", "cash_withdrawal_charge": "cash-withdrawal-charge",
    "cash_withdrawal_not_recognised": "cash-withdrawal-not-recognised",
    "change_pin": "change-pin", "compromised_card": "compromised-card",
    "contactless_not_working": "contactless-not-working", "country_support": "country-support",
    "declined_card_payment": "declined-card-payment",
    "declined_cash_withdrawal": "declined-cash-withdrawal",
    "declined_transfer": "declined-transfer",
    "direct_debit_payment_not_recognised": "direct-debit-not-recognised",
    "disposable_card_limits": "disposable-card-limits",
    "edit_personal_details": "edit-personal-details", "exchange_charge": "exchange-charge",
    "exchange_rate": "exchange-rate", "exchange_via_app": "exchange-via-app",
    "extra_charge_on_statement": "extra-charge-on-statement",
    "failed_transfer": "failed-transfer", "fiat_currency_support": "fiat-currency-support",
    "get_disposable_virtual_card": "get-disposable-virtual-card",
    "get_physical_card": "get-physical-card", "getting_spare_card": "spare-card",
    "getting_virtual_card": "get-virtual-card", "lost_or_stolen_card": "lost-stolen-card",
    "lost_or_stolen_phone": "lost-stolen-phone", "order_physical_card": "order-physical-card",
    "passcode_forgotten": "passcode-forgotten", "pending_card_payment": "pending-card-payment",
    "pending_cash_withdrawal": "pending-cash-withdrawal", "pending_top_up": "pending-top-up",
    "pending_transfer": "pending-transfer", "pin_blocked": "pin-blocked",
    "receiving_money": "receiving-money", "Refund_not_showing_up": "refund-not-showing",
    "request_refund": "request-refund", "reverted_card_payment?": "reverted-card-payment",
    "supported_cards_and_currencies": "supported-cards-currencies",
    "terminate_account": "close-account",
    "top_up_by_bank_transfer_charge": "bank-transfer-top-up-fee",
    "top_up_by_card_charge": "card-top-up-fee", "top_up_by_cash_or_cheque": "top-up-cash-cheque",
    "top_up_failed": "top-up-failed", "top_up_limits": "top-up-limits",
    "top_up_reverted": "top-up-reverted", "topping_up_by_card": "top-up-by-card",
    "transaction_charged_twice": "charged-twice", "transfer_fee_charged": "transfer-fee",
    "transfer_into_account": "transfer-into-account",
    "transfer_not_received_by_recipient": "transfer-not-received",
    "transfer_timing": "transfer-timing", "unable_to_verify_identity": "unable-to-verify-identity",
    "verify_my_identity": "verify-identity", "verify_source_of_funds": "source-of-funds",
    "verify_top_up": "verify-top-up", "virtual_card_not_working": "virtual-card-not-working",
    "visa_or_mastercard": "visa-or-mastercard", "why_verify_identity": "why-verify-identity",
    "wrong_amount_of_cash_received": "wrong-cash-amount",
    "wrong_exchange_rate_for_cash_withdrawal": "atm-exchange-rate",
}  # fmt: skip
# In-domain out-of-scope: every 11th intent (sorted by name) from the 4th; their articles
# are left out of the knowledge base (Banking77-OOS's held-out intents, Zhang et al. 2022).
HELD_OUT = tuple(sorted(INTENT_SLUGS)[3::11])

Case = tuple[str, str]  # (question, expected slug; "" for out of scope)


@dataclass(frozen=True)
class FaqData:
    articles: list[ArticleInput]
    tune: list[Case]
    report: list[Case]

    def summary(self) -> dict[str, Any]:
        def count(cases: list[Case]) -> dict[str, int]:
            oos = sum(1 for _, e in cases if not e)
            return {"in_scope": len(cases) - oos, "out_of_scope": oos}

        return {
            "articles": len(self.articles),
            "example_questions": sum(len(a.questions) for a in self.articles),
            "held_out_intents": list(HELD_OUT),
            "tune": count(self.tune),
            "report": count(self.report),
        }


def load_faq() -> FaqData:
    by_intent: dict[str, list[str]] = {}
    with (DATA / "banking77_test_sample.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent.setdefault(row["category"], []).append(" ".join(row["text"].split()))
    faq = {r["slug"]: r for r in json.loads((DATA / "bank_faq.json").read_text("utf-8"))}
    articles, tune, report = [], [], []
    for intent, questions in by_intent.items():
        slug = INTENT_SLUGS[intent]
        if intent in HELD_OUT:
            half = len(questions) // 2
            tune += [(q, "") for q in questions[:half]]
            report += [(q, "") for q in questions[half:]]
            continue
        r = faq[slug]
        articles.append(
            ArticleInput(
                slug=slug,
                title=r["title"],
                body=r["body"],
                category="banking",
                questions=tuple(questions[:EXAMPLES]),
            )
        )
        tune += [(q, slug) for q in questions[EXAMPLES : EXAMPLES + TUNE]]
        report += [(q, slug) for q in questions[EXAMPLES + TUNE :]]
    oos = (DATA / "clinc150_oos_val.txt").read_text("utf-8").splitlines()
    tune += [(q, "") for q in oos[0::2]]
    report += [(q, "") for q in oos[1::2]]
    return FaqData(articles, tune, report)
