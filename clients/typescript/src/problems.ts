// The contract's error bodies: every error is an RFC 9457 problem document (application/problem+json).
import type { components } from "./schema.gen.js";

export type Problem = components["schemas"]["Problem"];
/** 400 and 422: one entry per invalid input, by JSON pointer into the body or by parameter name. */
export type ValidationProblem = components["schemas"]["ValidationProblem"];
/** 409 on create: `type` names the quota, `limit` is its size. */
export type QuotaProblem = components["schemas"]["QuotaProblem"];

/** Whether a problem document lists invalid inputs (400 and 422 do). */
export function isValidationProblem(problem: Problem): problem is ValidationProblem {
  return Array.isArray((problem as Partial<ValidationProblem>).errors);
}
