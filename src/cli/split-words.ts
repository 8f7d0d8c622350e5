import { AsmError } from "../core/errors.js";

/**
 * Splits a command line into words as a POSIX shell would, without running one: blanks separate
 * words, single quotes keep everything literally, double quotes keep everything but `\"` and
 * `\\`, a backslash outside quotes keeps the next character. No expansion of any kind (`$`, `*`,
 * `~` stay as typed), so what the user wrote is exactly the argv that is spawned.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  // Undefined between words: an empty quoted word ('') is still a word.
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line.charAt(index);
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word = `${word ?? ""}${char}`;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === "\\" && (line[index + 1] === '"' || line[index + 1] === "\\")) {
        word = `${word ?? ""}${line.charAt(++index)}`;
      } else word = `${word ?? ""}${char}`;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "\\" && index + 1 < line.length) {
      word = `${word ?? ""}${line.charAt(++index)}`;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = `${word ?? ""}${char}`;
    }
  }
  if (quote) {
    throw new AsmError("validation_error", `unterminated ${quote} quote in ${JSON.stringify(line)}`, {
      hint: "close the quote, or quote the whole value for your own shell once",
    });
  }
  if (word !== undefined) words.push(word);
  return words;
}
