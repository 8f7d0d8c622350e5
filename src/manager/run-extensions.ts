import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { JsonObject } from "../core/session.js";
import { requireSpecification } from "../core/specification.js";
import type { ExecuteRequest } from "../ports/provider-adapter.js";
import {
  RUN_EXTENSION_SPECIFICATION,
  type RunContribution,
  type RunCostFigure,
  type RunEnd,
  type RunExtension,
  type RunExtensionContext,
  type RunHooks,
  type RunResultExtensions,
} from "../ports/run-extension.js";
import type { EventListener } from "./event-pipeline.js";

/** Checks a manager's extensions once, at construction: a bad list is a programming error. */
export function checkExtensions(
  extensions: readonly RunExtension[],
  reservedOptions: readonly string[],
): void {
  const names = new Set<string>();
  const owners = new Map<string, string>(reservedOptions.map((key) => [key, "the SessionManager"]));
  for (const extension of extensions) {
    requireSpecification(
      `run extension "${extension.name}"`,
      extension.specificationVersion,
      RUN_EXTENSION_SPECIFICATION,
    );
    if (names.has(extension.name)) {
      throw new AsmError("validation_error", `two run extensions are named "${extension.name}"`, {
        details: { extension: extension.name },
      });
    }
    names.add(extension.name);
    for (const key of Object.keys(extension.optionSchemas ?? {})) {
      const owner = owners.get(key);
      if (owner) {
        throw new AsmError(
          "validation_error",
          `run extension "${extension.name}" claims the executeRun option "${key}", which ${owner} owns`,
          { details: { extension: extension.name, option: key } },
        );
      }
      owners.set(key, `run extension "${extension.name}"`);
    }
  }
}

/** The `executeRun` options schema: the manager's own keys plus every extension's, strictly. */
export function executeOptionsSchema(
  base: Readonly<Record<string, z.ZodType>>,
  extensions: readonly RunExtension[],
): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = { ...base };
  for (const extension of extensions) Object.assign(shape, extension.optionSchemas);
  return z.strictObject(shape);
}

/** Runs every extension's `checkOptions` on a call's validated options. */
export function checkExtensionOptions(
  extensions: readonly RunExtension[],
  options: Readonly<Record<string, unknown>>,
): void {
  for (const extension of extensions) extension.checkOptions?.(options);
}

/** What the extensions decided at a run's end. */
export interface RunConclusion {
  cost: RunCostFigure | undefined;
  metadata: JsonObject;
  result: Partial<RunResultExtensions>;
  failure: AsmError | undefined;
}

/**
 * The hooks the extensions returned for one run, driven in extension order. The manager calls
 * `start` once, then the others as the run goes; `close` always, once.
 */
export class RunHookChain {
  private readonly started: { name: string; hooks: RunHooks }[] = [];
  private closed = false;

  constructor(private readonly extensions: readonly RunExtension[]) {}

  /**
   * Starts each extension in order. A throw stops there and is returned as the veto the run
   * fails with; the extensions started before it keep their hooks (they see the failed end).
   */
  async start(context: RunExtensionContext): Promise<AsmError | undefined> {
    for (const extension of this.extensions) {
      try {
        const hooks = await extension.start?.(context);
        if (hooks) this.started.push({ name: extension.name, hooks });
      } catch (error) {
        return extensionError(error, extension.name, "start");
      }
    }
    return undefined;
  }

  async transformRequest(request: ExecuteRequest): Promise<ExecuteRequest> {
    let current = request;
    for (const { hooks } of this.started) {
      if (hooks.transformRequest) current = await hooks.transformRequest(current);
    }
    return current;
  }

  /**
   * Pipeline listeners, one per `onEvent` hook. A hook that throws is reported once through
   * `report` and not called again in this run; the log and the other hooks go on.
   */
  listeners(report: (extension: string, error: AsmError) => void): EventListener[] {
    return this.started.flatMap(({ name, hooks }) => {
      const onEvent = hooks.onEvent?.bind(hooks);
      if (!onEvent) return [];
      let broken = false;
      return [
        (event: AsmEvent) => {
          if (broken) return;
          try {
            onEvent(event);
          } catch (error) {
            broken = true;
            report(name, extensionError(error, name, "onEvent"));
          }
        },
      ];
    });
  }

  /** Each `finish` in order, each seeing what the earlier ones contributed. */
  async finish(
    end: Omit<RunEnd, "cost" | "metadata" | "failure">,
    metadata: JsonObject,
  ): Promise<RunConclusion> {
    const conclusion: RunConclusion = { cost: undefined, metadata: {}, result: {}, failure: undefined };
    for (const { name, hooks } of this.started) {
      if (!hooks.finish) continue;
      let contribution: RunContribution | undefined;
      try {
        contribution = await hooks.finish({
          ...end,
          cost: conclusion.cost,
          metadata: { ...metadata, ...conclusion.metadata },
          failure: conclusion.failure,
        });
      } catch (error) {
        conclusion.failure ??= extensionError(error, name, "finish");
        continue;
      }
      if (!contribution) continue;
      if (contribution.cost) conclusion.cost = contribution.cost;
      Object.assign(conclusion.metadata, contribution.metadata);
      Object.assign(conclusion.result, contribution.result);
      conclusion.failure ??= contribution.failure;
    }
    return conclusion;
  }

  /** Closes every started extension, last started first; errors become warnings. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { name, hooks } of [...this.started].reverse()) {
      try {
        await hooks.close?.();
      } catch (error) {
        process.emitWarning(`run extension "${name}" failed to close: ${messageOf(error)}`, {
          code: "ASM_EXTENSION_ERROR",
        });
      }
    }
  }
}

function extensionError(error: unknown, extension: string, hook: string): AsmError {
  if (AsmError.is(error)) return error;
  return new AsmError(
    "internal_error",
    `run extension "${extension}" failed in ${hook}: ${messageOf(error)}`,
    {
      details: { extension, hook },
      cause: error,
    },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
