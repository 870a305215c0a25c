/*
 * The console's one door to the server. Requests carry the session cookie (same-origin)
 * and, when they change something, the X-CSRF-Token that GET /api/v1/me hands out. A
 * personal API token works too, here and only here: it comes once from the URL fragment
 * (#token=...) and then lives in sessionStorage.
 */
import { showError, storageGet, storageSet } from "./dom.js";

const TOKEN_KEY = "omnidesk.console_token";
const root = location.pathname.replace(/\/console(?:\/.*)?$/, "");
export const apiBase = `${root}/api/v1`;

export const auth = {
  mode: null, // "session" (cookie + CSRF) or "token" (bearer)
  token: null,
  csrf: null,
  agent: null, // {id, name, email, role, teams, ...} from GET /api/v1/me
};

export class AuthError extends Error {}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onSignedOut = () => {};
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  if (auth.csrf && method !== "GET") headers["X-CSRF-Token"] = auth.csrf;
  const init = { method, headers, cache: "no-store", credentials: "same-origin" };
  if (body instanceof Blob) {
    // A file as it is (a CSV upload); the server reads the raw body.
    headers["Content-Type"] = body.type || "text/csv";
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(apiBase + path, init);
  } catch (_) {
    throw new ApiError(0, "network", "The server cannot be reached. Retrying…");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (response.status === 401 && auth.mode) {
    signOut("Your sign-in is no longer valid. Please sign in again.");
    throw new AuthError("unauthorised");
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(response.status, err.code || "http_error", err.message || `Request failed (${response.status}).`);
  }
  return data || {};
}

/** Fetch ``path`` as a file (a CSV export) with the caller's sign-in and save it. */
export async function download(path, filename) {
  const headers = {};
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  const response = await fetch(apiBase + path, { headers, cache: "no-store", credentials: "same-origin" });
  if (!response.ok) throw new ApiError(response.status, "http_error", `Export failed (${response.status}).`);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function report(err) {
  if (err instanceof AuthError) return;
  showError(err && err.message ? err.message : "Something went wrong.");
}

function tokenFromFragment() {
  if (!location.hash || location.hash.length < 2) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token === null) return null;
  // Strip the token from the address bar and the history entry.
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  return token.trim() || null;
}

/**
 * Who is signed in: the account behind the session cookie (or a personal token).
 * Resolves to null when nobody is (the caller sends the browser to /signin).
 */
export async function signIn(token) {
  auth.token = token || tokenFromFragment() || storageGet("sessionStorage", TOKEN_KEY);
  auth.mode = null;
  const headers = { Accept: "application/json" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  const me = await fetch(`${apiBase}/me`, { headers, credentials: "same-origin", cache: "no-store" });
  if (!me.ok) return forget();
  const data = await me.json();
  auth.mode = auth.token ? "token" : "session";
  auth.csrf = data.csrf_token || null;
  auth.agent = data.agent;
  if (auth.token) storageSet("sessionStorage", TOKEN_KEY, auth.token);
  return auth.agent;
}

function forget() {
  auth.mode = null;
  auth.csrf = null;
  auth.agent = null;
  if (auth.token) storageSet("sessionStorage", TOKEN_KEY, null);
  auth.token = null;
  return null;
}

export function signinUrl() {
  // Slashes stay readable in the address: /signin?next=/console.
  return `${root}/signin?next=${encodeURIComponent(`${root}/console`).replace(/%2F/g, "/")}`;
}

export async function signOut(message) {
  const wasSession = auth.mode === "session";
  const csrf = auth.csrf;
  forget();
  if (wasSession) {
    try {
      await fetch(`${apiBase}/auth/logout`, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf || "", "Content-Type": "application/json" },
        body: "{}",
        credentials: "same-origin",
      });
    } catch (_) {
      /* signed out either way */
    }
  }
  onSignedOut(message || "", wasSession);
}
