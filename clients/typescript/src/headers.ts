// The headers that make writes safe to retry (Idempotency-Key) and safe against lost updates
// (ETag, sent back as If-Match), shaped for openapi-fetch's `params.header`.

/** A new key for one create: send it with every retry of that create, with the same body. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/** `params.header` of a create that may be retried: the same key and body never create a second task. */
export function idempotencyKey(key: string): { "Idempotency-Key": string } {
  return { "Idempotency-Key": key };
}

/** Whether a create was answered from its Idempotency-Key's first answer rather than done again. */
export function wasReplayed(response: Response): boolean {
  return response.headers.get("Idempotent-Replayed") === "true";
}

/** The task's version (its entity tag, e.g. `"3"`) from an answer about one task. */
export function etagOf(response: Response): string | undefined {
  return response.headers.get("ETag") ?? undefined;
}

/** `params.header` of a change that applies only if the task is still at this version; else 412. */
export function ifMatch(etag: string): { "If-Match": string } {
  return { "If-Match": etag };
}
