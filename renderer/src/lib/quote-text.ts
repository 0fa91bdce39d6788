// What a quote shows of the message it answers: its text, or for a message of files alone (no caption) the files'
// names, so a quoted reply to a photo is never an empty quote.
import type { Message } from '../state/types.ts';

const QUOTE_CHARS = 140;

export function quoteText(message: Message): string {
  if (message.text !== '') return message.text.slice(0, QUOTE_CHARS);
  const files = message.files ?? [];
  if (files.length === 0) return '';
  const names = files.map((f) => f.name).join(', ');
  return `${files.length === 1 ? 'File' : `${files.length} files`}: ${names}`.slice(0, QUOTE_CHARS);
}
