// The rendering pipeline: one renderer (events → text) × any number of sinks (where text and events go).

// The PubSub sink's topic options, with the PubSub module's names (the package root exports them from here).
export type { TopicOptions, TopicScope } from "../pubsub/topics.js";
export { EventFeed } from "./event-feed.js";
export { type RenderOptions, type RenderReport, render, type SinkFailure, type SinkPhase } from "./render.js";
export { TEXT_RENDERER_NAMES, type TextRendererName } from "./renderer-names.js";
export { CompactRenderer, type CompactRendererOptions } from "./renderers/compact.js";
export { PassthroughRenderer } from "./renderers/passthrough.js";
export { StudioRenderer, type StudioRendererOptions, type ToolOutputMode } from "./renderers/studio.js";
export { VerboseRenderer, type VerboseRendererOptions } from "./renderers/verbose.js";
export { CallbackSink, type CallbackSinkOptions } from "./sinks/callback.js";
export { FileSink, type FileSinkOptions } from "./sinks/file.js";
export {
  COMPACT_TYPE_ABBREVIATIONS,
  compactEntry,
  type JsonlMode,
  JsonlSink,
  type JsonlSinkOptions,
} from "./sinks/jsonl.js";
export { PubSubSink, type PubSubSinkOptions } from "./sinks/pubsub.js";
export { TtySink, type TtySinkOptions } from "./sinks/tty.js";
export { neutralise, stripAnsi } from "./terminal.js";
export type { Renderer, Sink } from "./types.js";
