// A portal front end's data layer, typed by the generated documents: the
// compiler knows every field of each answer and every variable of each call.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import {
  FirstScreenDocument,
  OverdueInvoicesDocument,
  PayDocument,
  type PayMutationVariables,
} from "../generated/graphql";
import persisted from "../generated/persisted-documents.json";

type Answer<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

/** POSTs one operation; `byHash` sends only its SHA-256 (a trusted document). */
export async function run<Result, Variables>(
  endpoint: string,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
  options: { token?: string; byHash?: boolean } = {},
): Promise<Result> {
  const hash = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  const body = options.byHash && hash
    ? { extensions: { persistedQuery: { version: 1, sha256Hash: hash } }, variables }
    : { query: print(document), variables };
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Answer<Result>;
  if (answer.errors?.length || !answer.data) {
    throw new Error(answer.errors?.map((e) => e.extensions?.code ?? e.message).join(", "));
  }
  return answer.data;
}

export async function firstScreen(endpoint: string, token: string): Promise<string[]> {
  const data = await run(endpoint, FirstScreenDocument, {}, { token, byHash: true });
  const accounts = data.viewer?.memberships.nodes.map((m) => m.account.number) ?? [];
  const email: string | undefined = data.viewer?.user.email;
  return email ? [email, ...accounts] : accounts;
}

export async function payOverdue(endpoint: string, token: string): Promise<string | null> {
  const { account } = await run(endpoint, OverdueInvoicesDocument, { first: 5 }, { token });
  const invoiceIds = account?.invoices.nodes.map((invoice) => invoice.id) ?? [];
  const variables: PayMutationVariables = { input: { invoiceIds } };
  const { startPayment } = await run(endpoint, PayDocument, variables, { token });
  const problems: string[] = startPayment.userErrors.map((e) => e.code);
  return problems.length ? problems.join(",") : (startPayment.redirectUrl ?? null);
}

export const persistedDocumentCount: number = Object.keys(persisted).length;
