import { z } from "zod";
import type { FrameCheck, FrameIssue } from "./jsonl-reader.js";

/*
 * Frame protocols as zod schemas: how each provider adapter decides, before mapping, whether an
 * output object is a frame it can read. The schemas say only what a mapper (or the SDK reading
 * the frame before it) dereferences; every object is loose, so fields a CLI adds pass through.
 * A refused frame becomes a `LineProblem` (jsonl-reader.ts), reported by `parseErrorEvent`.
 */

/** How many issues a refused frame's report keeps. */
const MAX_ISSUES = 5;
/** How much of a frame's `type` a report repeats. */
const MAX_TYPE_CHARS = 100;

/** The frame schemas of one protocol, by the frame's `type`. */
export type FrameSchemas = Readonly<Record<string, z.ZodType>>;

/** A frame of the protocol: the output of one of its schemas. */
export type FrameOf<S extends FrameSchemas> = z.output<S[keyof S]>;

interface FlatIssue {
  path: PropertyKey[];
  message: string;
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

/**
 * Where a value is wrong, first issues first, at most `MAX_ISSUES`. A union's issue is replaced
 * by the issues of its branch that got furthest (the longest path): that names the wrong field
 * rather than saying "invalid input".
 */
function flatIssues(error: z.ZodError): FlatIssue[] {
  const flat: FlatIssue[] = [];
  const collect = (issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): void => {
    for (const issue of issues) {
      if (flat.length >= MAX_ISSUES) return;
      const path = [...prefix, ...issue.path];
      if (issue.code === "invalid_union" && issue.errors.length > 0) {
        collect(
          issue.errors.reduce((best, branch) => (depth(branch) > depth(best) ? branch : best)),
          path,
        );
      } else {
        flat.push({ path, message: issue.message });
      }
    }
  };
  collect(error.issues, []);
  return flat;
}

/** A zod error as the issues a report carries: dotted paths (`message.content.0.text`; `""` for the frame itself). */
export function frameIssues(error: z.ZodError): FrameIssue[] {
  return flatIssues(error).map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * The check for one provider's frames: an object whose `type` is listed must match that type's
 * schema (`invalid_frame` otherwise, with the issues); any other `type`, or none, is
 * `unknown_frame`. A frame that passes is returned as the schema's output.
 */
export function frameCheck<S extends FrameSchemas>(schemas: S): FrameCheck<FrameOf<S>> {
  const byType = new Map<string, z.ZodType>(Object.entries(schemas));
  return (value): ReturnType<FrameCheck<FrameOf<S>>> => {
    const { type } = value;
    if (typeof type !== "string") {
      return { ok: false, problem: { reason: "unknown_frame", message: "it has no string type" } };
    }
    const schema = byType.get(type);
    if (schema === undefined) {
      const frameType = clip(type, MAX_TYPE_CHARS);
      return {
        ok: false,
        problem: { reason: "unknown_frame", message: `type "${frameType}"`, frameType },
      };
    }
    const parsed = schema.safeParse(value);
    // The schema is the one listed for this type, so its output is that frame's type.
    if (parsed.success) return { ok: true, frame: parsed.data as FrameOf<S> };
    const issues = frameIssues(parsed.error);
    return {
      ok: false,
      problem: {
        reason: "invalid_frame",
        message: issues.map((issue) => `${issue.path || "(frame)"}: ${issue.message}`).join("; "),
        frameType: clip(type, MAX_TYPE_CHARS),
        issues,
      },
    };
  };
}

type KeyShape<K extends string> = { [P in K]: z.ZodString };

/** The objects of an `openUnion`: the common shape, with the key as any string. */
type OpenMember<K extends string, B extends z.ZodRawShape> = z.output<
  z.ZodObject<B & KeyShape<K>, z.core.$loose>
>;

/** What an `openUnion` is made of. */
export interface OpenUnion<
  K extends string,
  V extends FrameSchemas,
  B extends z.ZodRawShape,
  O extends z.ZodType,
> {
  /** Checks the common shape, then a listed variant against its schema, or any other against `other`. */
  schema: z.ZodType<OpenMember<K, B>>;
  /** Narrows a checked member to variant `name` (sound: the schema checked it as that variant). */
  is<N extends keyof V & string>(
    member: OpenMember<K, B>,
    name: N,
  ): member is OpenMember<K, B> & z.output<V[N]>;
  /** Narrows a checked member to the unlisted ones, which `other` checked. */
  isOther(member: OpenMember<K, B>): member is OpenMember<K, B> & z.output<O>;
}

/** The members of the open union `U` that are its variant `N`: what `U.is(member, N)` narrows to. */
export type VariantOf<U, N extends string> =
  U extends OpenUnion<infer K, infer V, infer B, z.ZodType>
    ? N extends keyof V
      ? OpenMember<K, B> & z.output<V[N]>
      : never
    : never;

/**
 * Objects told apart by the string field `key` — a content block's `type`, a system frame's
 * `subtype`, a Codex item's `type` — open to values it does not list, since providers add them
 * between releases: every member must have the common `shape` and a string `key`; a listed
 * variant must also match its schema, an unlisted one `other` (default: anything). The output is
 * the common shape (loose); narrow it with `is` / `isOther`. Variant schemas must be plain (loose)
 * objects without transforms, as their output is not kept.
 */
export function openUnion<
  K extends string,
  V extends FrameSchemas,
  B extends z.ZodRawShape = Record<never, never>,
  O extends z.ZodType = z.ZodUnknown,
>(key: K, variants: V, options: { shape?: B; other?: O } = {}): OpenUnion<K, V, B, O> {
  const byName = new Map<string, z.ZodType>(Object.entries(variants));
  const keyShape = { [key]: z.string() } as KeyShape<K>;
  const schema = z
    .looseObject({ ...options.shape, ...keyShape } as B & KeyShape<K>)
    .superRefine((member, ctx) => {
      const name = (member as Record<string, unknown>)[key] as string;
      const variant = byName.get(name) ?? options.other;
      const parsed = variant?.safeParse(member);
      if (parsed === undefined || parsed.success) return;
      for (const issue of flatIssues(parsed.error)) {
        ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
      }
    });
  return {
    schema,
    is: <N extends keyof V & string>(
      member: OpenMember<K, B>,
      name: N,
    ): member is OpenMember<K, B> & z.output<V[N]> => (member as Record<string, unknown>)[key] === name,
    isOther: (member: OpenMember<K, B>): member is OpenMember<K, B> & z.output<O> =>
      !byName.has((member as Record<string, unknown>)[key] as string),
  };
}
