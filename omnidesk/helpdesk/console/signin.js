/*
 * omnidesk sign-in page: posts the email and password as JSON to /api/v1/auth/login
 * (the server sets the HttpOnly session cookie) and goes on to ?next= (a local path
 * only) or the console. No inline script, so a strict Content-Security-Policy holds.
 */
(() => {
  "use strict";

  const form = document.querySelector(".si-form");
  const email = document.querySelector("#si-email");
  const password = document.querySelector("#si-password");
  const error = document.querySelector(".si-error");
  const submit = document.querySelector(".si-submit");

  function nextPath() {
    const next = new URLSearchParams(location.search).get("next") || "";
    // Only a path on this site: never "//host" or "https://...", which would leave it.
    return /^\/(?![/\\])/.test(next) ? next : "/console";
  }

  function show(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!email.value.trim() || !password.value) {
      show("Enter your email and password.");
      return;
    }
    submit.disabled = true;
    show("");
    try {
      const response = await fetch("/api/v1/auth/login", {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email: email.value.trim(), password: password.value }),
      });
      if (response.ok) {
        location.assign(nextPath());
        return;
      }
      if (response.status === 429) {
        const wait = Number(response.headers.get("Retry-After")) || 60;
        show(`Too many attempts. Try again in ${Math.ceil(wait / 60)} min.`);
      } else if (response.status === 401) {
        show("Wrong email or password.");
      } else {
        show(`Sign-in failed (${response.status}).`);
      }
    } catch (_) {
      show("The server cannot be reached.");
    } finally {
      submit.disabled = false;
      password.value = "";
      password.focus();
    }
  });
})();
