// Kept apart from the renderers so a command line can list the names without loading them.

/** The renderers that write for people, by name: what `asm run --render` and `asm events --render` take. */
export const TEXT_RENDERER_NAMES = ["compact", "verbose", "studio"] as const;
export type TextRendererName = (typeof TEXT_RENDERER_NAMES)[number];
