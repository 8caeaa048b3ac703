// The explorer page served at GET /graphql: GraphiQL with the explorer plugin,
// a sign-in panel and the documentation's example operations as tabs.
//
// What it keeps, and where (see docs/clients.md, "The explorer"):
// - nothing in localStorage (it removes what older GraphiQL pages left there);
// - tabs (queries, variables) and history in sessionStorage, which the browser
//   drops with the tab; headers are never stored;
// - after a successful `logout` (or "Sign out"), all of it is wiped and the
//   page stores nothing more;
// - the address bar never holds a query or its variables.
import { createRoot } from "react-dom/client";
import { useState } from "react";
import { GraphiQL } from "graphiql";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { parse } from "graphql";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./explorer.css";

const PREFIX = "graphiql:";
// Set by a sign-out: from then on this page keeps nothing (GraphiQL writes its
// state again on every change and when the page unloads).
let frozen = false;

function readConfig() {
  const element = document.getElementById("explorer-config");
  return JSON.parse(element.textContent);
}

/** A stored value with every `headers` field emptied: GraphiQL keeps each tab's
 * headers in its tab state and each run's headers in its history. */
function withoutHeaders(value) {
  let parsed;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value;
  }
  const strip = (node) => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node).map(([name, inner]) => [name, name === "headers" ? null : strip(inner)]),
    );
  };
  return JSON.stringify(strip(parsed));
}

/** GraphiQL's storage: sessionStorage without any header a person typed. */
function sessionOnlyStorage() {
  const backing = window.sessionStorage;
  const blocked = (key) => key === `${PREFIX}headers`;
  return {
    get length() {
      return backing.length;
    },
    key: (index) => backing.key(index),
    getItem: (key) => (blocked(key) ? null : backing.getItem(key)),
    setItem: (key, value) => {
      if (!frozen && !blocked(key)) backing.setItem(key, withoutHeaders(value));
    },
    removeItem: (key) => backing.removeItem(key),
    clear: () => forget(backing),
  };
}

function forget(storage) {
  const keys = [];
  for (let i = 0; i < storage.length; i += 1) {
    const key = storage.key(i);
    if (key && key.startsWith(PREFIX)) keys.push(key);
  }
  keys.forEach((key) => storage.removeItem(key));
}

function forgetEverything() {
  frozen = true;
  forget(window.sessionStorage);
  forget(window.localStorage);
}

function parseHeaders(headers) {
  return headers && typeof headers === "object" ? headers : {};
}

/** GraphiQL can keep the previous tab's operation name after a tab switch:
 * send one that the document has (or none, for a one-operation document). */
function withOperationName(params) {
  let names = [];
  try {
    names = parse(params.query)
      .definitions.filter((d) => d.kind === "OperationDefinition")
      .map((d) => (d.name ? d.name.value : null));
  } catch {
    return params;
  }
  if (names.includes(params.operationName)) return params;
  return { ...params, operationName: names.length === 1 ? names[0] || undefined : undefined };
}

/** JSON POSTs with the session cookie (same origin) and the CSRF header. */
function makeFetcher(endpoint) {
  return async (params, options) => {
    const response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/graphql-response+json, application/json",
        "Content-Type": "application/json",
        "X-CSRF-Protection": "1",
        ...parseHeaders(options && options.headers),
      },
      body: JSON.stringify(withOperationName(params)),
    });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      // A request refused before GraphQL ran may answer in plain text.
      body = { errors: [{ message: `HTTP ${response.status}: ${text}` }] };
    }
    if (body && body.data && body.data.logout) forgetEverything();
    return body;
  };
}

async function signOut(endpoint) {
  await makeFetcher(endpoint)({
    query: "mutation SignOut { logout { endedSessions } }",
    operationName: "SignOut",
  });
  forgetEverything();
  window.location.reload();
}

function KeyIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
      <circle cx="8" cy="14" r="4" fill="none" stroke="currentColor" strokeWidth="2" />
      <path d="M11 11 20 2M16 6l3 3" fill="none" stroke="currentColor" strokeWidth="2" />
    </svg>
  );
}

function signInPlugin(config) {
  const text = config.text;
  return {
    title: text.signInTitle,
    icon: KeyIcon,
    content: () => (
      <div className="cz-help">
        <h2>{text.signInTitle}</h2>
        <button type="button" className="cz-button" onClick={() => signOut(config.endpoint)}>
          {text.signOut}
        </button>
        {text.signInSteps.map((step) => (
          <p key={step}>{step}</p>
        ))}
        <pre>{'{"Authorization": "Bearer …"}'}</pre>
        <p>{text.accountHint}</p>
        <p>{text.storageNote}</p>
      </div>
    ),
  };
}

function tabsFrom(examples) {
  return examples.map((example) => ({
    query: example.query,
    variables: example.variables ? JSON.stringify(example.variables, null, 2) : null,
  }));
}

function Explorer({ config }) {
  const [plugins] = useState(() => [signInPlugin(config), explorerPlugin()]);
  const tabs = tabsFrom(config.examples);
  // GraphiQL fills the first tab's editors from these props, not from
  // defaultTabs; once tabs are stored, the stored ones win.
  const fresh = !window.sessionStorage.getItem(`${PREFIX}tabState`) && tabs.length > 0;
  return (
    <GraphiQL
      fetcher={makeFetcher(config.endpoint)}
      storage={sessionOnlyStorage()}
      shouldPersistHeaders={false}
      showPersistHeadersSettings={false}
      defaultTabs={tabs}
      query={fresh ? tabs[0].query : undefined}
      variables={fresh ? tabs[0].variables : undefined}
      plugins={plugins}
      defaultEditorToolsVisibility="variables"
    >
      <GraphiQL.Logo>{config.company}</GraphiQL.Logo>
    </GraphiQL>
  );
}

/** Shown instead of the explorer where it is only for signed-in people. */
function SignInForm({ config }) {
  const text = config.text;
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = await makeFetcher(config.endpoint)({
      query:
        "mutation SignIn($input: LoginInput!) { login(input: $input) { user { email } userErrors { message } } }",
      operationName: "SignIn",
      variables: { input: { email: form.get("email"), password: form.get("password") } },
    });
    const login = body.data && body.data.login;
    if (login && login.user) {
      window.location.reload();
    } else {
      const messages = (login && login.userErrors) || body.errors || [];
      setError(messages.map((m) => m.message).join(" ") || text.signInFailed);
    }
  };
  return (
    <main className="cz-signin">
      <h1>{config.company}</h1>
      <p>{text.signInRequired}</p>
      <form onSubmit={submit}>
        <label>
          {text.email}
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          {text.password}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" className="cz-button">
          {text.signIn}
        </button>
        {error ? <p role="alert">{error}</p> : null}
      </form>
    </main>
  );
}

function start() {
  const config = readConfig();
  // Older GraphiQL pages on this origin kept tabs, variables and headers in
  // localStorage: nothing of that is wanted here.
  forget(window.localStorage);
  const root = createRoot(document.getElementById("explorer"));
  root.render(
    config.mode === "sign-in" ? <SignInForm config={config} /> : <Explorer config={config} />,
  );
}

start();
