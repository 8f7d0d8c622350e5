import type { Context } from "hono";
import type { z } from "zod";
import { AsmError } from "../core/errors.js";
import { parseWith } from "../core/validation.js";

/** What a route's handler gets: its inputs parsed by the route's schemas. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  c: Context;
}

/**
 * One API route: its schemas validate the request (a failure is a 400 `validation_error`) and
 * describe it in the OpenAPI document, so the two cannot drift apart.
 */
export interface Route {
  method: "get" | "post";
  /** Hono's form: `/api/v1/sessions/:sessionId`. */
  path: string;
  summary: string;
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Status of a success. Default 200. */
  status?: number;
  /** `text/event-stream` for the SSE route. Default JSON. */
  produces?: string;
  /** A JSON value (sent with `status`) or a Response (sent as is). */
  handle(input: RouteInput<unknown, unknown, unknown>): Promise<unknown>;
}

/** Declares a route with its handler typed by its schemas. */
export function defineRoute<
  P extends z.ZodType = z.ZodType<Record<string, never>>,
  Q extends z.ZodType = z.ZodType<Record<string, never>>,
  B extends z.ZodType = z.ZodType<undefined>,
>(
  route: Omit<Route, "params" | "query" | "body" | "handle"> & {
    params?: P;
    query?: Q;
    body?: B;
    handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
  },
): Route {
  return route as Route;
}

/** The query string as one string per key: a repeated key (`types=a&types=b`) joined by `,`. */
function flatQuery(c: Context): Record<string, string> {
  return Object.fromEntries(Object.entries(c.req.queries()).map(([key, values]) => [key, values.join(",")]));
}

/** Parses the request against the route's schemas and calls its handler. */
export async function runRoute(route: Route, c: Context): Promise<Response> {
  const params = route.params ? parseWith(route.params, c.req.param(), "path parameters") : {};
  const query = route.query ? parseWith(route.query, flatQuery(c), "query") : {};
  let body: unknown;
  if (route.body) {
    const text = await c.req.text();
    let json: unknown = {};
    if (text.trim().length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new AsmError("validation_error", "the body is not valid JSON", {
          hint: "send a JSON object (content-type: application/json)",
        });
      }
    }
    body = parseWith(route.body, json, "body");
  }
  const result = await route.handle({ params, query, body, c });
  if (result instanceof Response) return result;
  return c.json(result as object, (route.status ?? 200) as 200);
}
