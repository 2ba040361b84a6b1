// How a TypeScript front end uses the generated types: a typed request helper and code that depends on
// the shapes the example operations select. `tsc --noEmit` over this file (npm run check, in CI) fails
// when a schema change breaks a generated client — a field removed or renamed, made nullable, or a
// quantity no longer a decimal string.
import { print } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import {
  PostTriggerDocument,
  TriggerOutcomesDocument,
  WorkOrderDocument,
  WorkOrdersDocument,
  type PostTriggerMutation,
  type TriggerOutcomesSubscription,
  type WorkOrderQuery,
  type WorkOrdersQuery,
} from "../generated/graphql";

export type Session = { api: string; accessToken: string };

/** A GraphQL error the service raised (authentication, scope): not a refusal, which comes as userErrors. */
export class GraphQLRequestError extends Error {
  constructor(readonly codes: string[], message: string) {
    super(message);
  }
}

export async function request<Result, Variables>(
  session: Session, document: TypedDocumentNode<Result, Variables>, variables: Variables,
): Promise<Result> {
  const response = await fetch(`${session.api}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.accessToken}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: Result; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length || body.data === undefined) {
    const errors = body.errors ?? [];
    throw new GraphQLRequestError(errors.map((e) => e.extensions?.code ?? "UNKNOWN"), errors.map((e) => e.message).join("; "));
  }
  return body.data;
}

type BomLine = NonNullable<WorkOrderQuery["workOrder"]>["bom"]["lines"][number];

/** Quantities stay strings end to end: display them as sent, or parse them with a decimal library. */
export function bomSummary(line: BomLine): string {
  const quantity: string = line.quantity;
  return `${line.lineNo}. ${line.component.code}: ${quantity} ${line.uom} (+${line.scrapPercent} % scrap)`;
}

export async function loadWorkOrder(session: Session, number: string): Promise<string[]> {
  const { workOrder } = await request(session, WorkOrderDocument, { number });
  if (workOrder === null) return []; // not found, or on a site this user may not see
  return workOrder.bom.lines.map(bomSummary);
}

/** Every work order, page by page: keyset cursors, `after` = the previous page's endCursor. */
export async function allWorkOrderNumbers(session: Session): Promise<string[]> {
  const numbers: string[] = [];
  let after: string | null = null;
  for (;;) {
    const { workOrders }: WorkOrdersQuery = await request(session, WorkOrdersDocument, { first: 50, after });
    numbers.push(...workOrders.edges.map((edge) => edge.node.number));
    if (!workOrders.pageInfo.hasNextPage) return numbers;
    after = workOrders.pageInfo.endCursor;
  }
}

type ReportResult =
  | { kind: "reported"; outcome: "POSTED" | "BLOCKED" | "DISCARDED"; triggerId: string }
  | { kind: "refused"; problems: { field: string; code: string; message: string }[] };

/** Expected refusals are data with stable codes; branch on `code`, show `message`, point at `field`. */
export function reportResult(payload: PostTriggerMutation["postTrigger"]): ReportResult {
  if (payload.userErrors.length > 0 || payload.trigger === null) {
    return { kind: "refused", problems: payload.userErrors.map((e) => ({
      field: (e.field ?? []).join("."), code: e.code, message: e.message })) };
  }
  return { kind: "reported", outcome: payload.trigger.outcome, triggerId: payload.trigger.id };
}

export async function reportPackConfirmed(session: Session, workOrderId: string, goodQuantity: string): Promise<ReportResult> {
  const { postTrigger } = await request(session, PostTriggerDocument, { input: {
    idempotencyKey: crypto.randomUUID(), workOrderId, kind: "PACK_CONFIRMED", goodQuantity } });
  return reportResult(postTrigger);
}

/** What a subscription listener receives; the document goes to graphql-ws's `subscribe` as `print(...)`. */
export function describeOutcome(event: TriggerOutcomesSubscription["triggerOutcomes"]): string {
  const reasons = event.blockReasons.map((r) => `${r.code}${r.required === null ? "" : ` (needs ${r.required} ${r.uom ?? ""})`}`);
  return `${event.workOrder.number} ${event.kind} ${event.goodQuantity}: ${event.outcome} ${reasons.join(", ")}`.trim();
}

export const triggerOutcomesQuery: string = print(TriggerOutcomesDocument);
