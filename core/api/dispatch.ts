// Routes command names to handlers and checks the contract on the way in and out. Every transport (in-process
// for the CLI, IPC for Electron, WebSocket for the web shell) wraps one of these, so the checks live in one place.
import { z } from 'zod';
import { ApiError, commands, events, type CommandName, type CommandRequest, type CommandResponse, type EventName, type EventPayload, type WardroomApi } from './contract.ts';

export type Handlers = {
  [N in CommandName]: (request: z.output<(typeof commands)[N]['request']>) => Promise<CommandResponse<N>>;
};

/** What each request field is called in a sentence, and what it says when it is empty. */
const FIELDS: Record<string, { noun: string; empty?: string; unit?: string }> = {
  text: { noun: 'a message', empty: 'the message is empty' },
  topic: { noun: 'a topic' },
  query: { noun: 'a search', empty: 'the search is empty' },
  emoji: { noun: 'a reaction', empty: 'the reaction is empty' },
  code: { noun: 'a link code', empty: 'the link code is empty' },
  link: { noun: 'an invite link', empty: 'the invite link is empty' },
  passphrase: { noun: 'a passphrase', empty: 'the passphrase is empty' },
  limit: { noun: 'the limit' },
  expiresInSeconds: { noun: 'an expiry timer', unit: 'seconds' },
  burnAfterReadSeconds: { noun: 'a burn-after-read timer', unit: 'seconds' },
  expireSeconds: { noun: 'an expiry timer', unit: 'seconds' },
  burnSeconds: { noun: 'a burn-after-read timer', unit: 'seconds' },
  maxExpireSeconds: { noun: 'the maximum expiry', unit: 'seconds' },
  maxBurnSeconds: { noun: 'the maximum burn-after-read', unit: 'seconds' },
  defaultExpireSeconds: { noun: 'the default expiry', unit: 'seconds' },
  displayName: { noun: 'a display name' },
  name: { noun: 'a name', empty: 'the name is empty' },
};

const count = (n: unknown) => (typeof n === 'number' || typeof n === 'bigint' ? n.toLocaleString('en-US') : String(n));

/**
 * One zod issue as a sentence in the user's terms ("a message has at most 16,000 characters"), never zod's own
 * text ("Too big: expected string to have <=16000 characters"). Schemas with their own message (usernames,
 * channel names, targets) keep it.
 */
function describeIssue(issue: z.core.$ZodIssue, request: unknown): string {
  const key = String(issue.path.at(-1) ?? 'request');
  const field = FIELDS[key] ?? { noun: `the ${key} field` };
  const ownMessage = issue.message && !/^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message);
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? field.empty ?? `${field.noun} is empty` : `${field.noun} has at least ${count(issue.minimum)} characters`;
      return `${field.noun} must be ${issue.inclusive ? 'at least' : 'more than'} ${count(issue.minimum)}${field.unit ? ` ${field.unit}` : ''}`;
    case 'too_big':
      if (issue.origin === 'string') return `${field.noun} has at most ${count(issue.maximum)} characters`;
      return `${field.noun} must be ${issue.inclusive ? 'at most' : 'less than'} ${count(issue.maximum)}${field.unit ? ` ${field.unit}` : ''}`;
    case 'invalid_type':
      return valueAt(request, issue.path) === undefined ? `${field.noun} is missing` : `${field.noun} must be a ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.slice(0, 8).join(', ').slice(0, 200)}`;
    default:
      return ownMessage ? issue.message : `${field.noun} is not valid`;
  }
}

const valueAt = (value: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), value);

function describeIssues(error: z.ZodError, request: unknown): string {
  return [...new Set(error.issues.map((issue) => describeIssue(issue, request)))].join('; ');
}

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/**
 * Errors that are not ApiErrors are engine bugs: their text may hold internals, so callers get a generic message
 * (and say where the host keeps its log: the CLI names the profile's wardroom.log).
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError('INTERNAL', 'internal error in the engine');
}

/** A command's two schemas. */
export interface CommandSpec {
  request: z.ZodType;
  response: z.ZodType;
}

/**
 * One command through its schemas: the request is parsed (strictly) before the handler runs, and the answer is
 * checked before it leaves. The engine's dispatcher and the host's both go through here.
 */
export async function checkedCall(name: string, spec: CommandSpec, handler: (request: unknown) => Promise<unknown>, request: unknown, onInternalError: (command: string, error: unknown) => void): Promise<unknown> {
  const parsed = spec.request.safeParse(request ?? {});
  if (!parsed.success) throw new ApiError('BAD_REQUEST', describeIssues(parsed.error, request));
  let response: unknown;
  try {
    response = await handler(parsed.data);
  } catch (error) {
    if (!(error instanceof ApiError)) onInternalError(name, error);
    throw toApiError(error);
  }
  const checked = spec.response.safeParse(response);
  if (!checked.success) {
    onInternalError(name, new Error(`response broke the contract: ${z.prettifyError(checked.error)}`));
    throw new ApiError('INTERNAL', `${name}: the engine's answer broke the contract`);
  }
  return checked.data;
}

export interface Dispatcher extends WardroomApi {
  /** For transports that receive untyped names and payloads (IPC, WebSocket). */
  callUntyped(name: string, request: unknown): Promise<unknown>;
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void;
  /** The number of the last event emitted (0 before the first). */
  lastSeq(): number;
  /**
   * The events after `seq`, oldest first, as far as the replay buffer reaches; `complete` is false when some were
   * already dropped from it, and the client must take a fresh snapshot instead.
   */
  since(seq: number): { events: RecordedEvent[]; complete: boolean };
}

export interface RecordedEvent {
  seq: number;
  name: EventName;
  payload: unknown;
}

/** How many recent events a reconnecting client can catch up on. */
export const REPLAY_EVENTS = 4096;

export function createDispatcher(handlers: Handlers, onInternalError: (command: string, error: unknown) => void = () => {}): Dispatcher {
  const listeners = new Map<EventName, Set<(payload: unknown, seq: number) => void>>();
  const replay: RecordedEvent[] = [];
  let seq = 0;

  async function callUntyped(name: string, request: unknown): Promise<unknown> {
    if (!isCommandName(name)) throw new ApiError('UNKNOWN_COMMAND', `unknown command: ${name.slice(0, 64)}`);
    return checkedCall(name, commands[name], handlers[name] as (r: unknown) => Promise<unknown>, request, onInternalError);
  }

  return {
    callUntyped,
    call: <N extends CommandName>(name: N, request: CommandRequest<N>) => callUntyped(name, request) as Promise<CommandResponse<N>>,
    on(name, listener) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener as (payload: unknown, seq: number) => void);
      return () => set.delete(listener as (payload: unknown, seq: number) => void);
    },
    emit(name, payload) {
      // Events are checked as they leave core too: a UI must never receive a shape the contract does not promise.
      const checked = events[name].parse(payload);
      seq += 1;
      replay.push({ seq, name, payload: checked });
      if (replay.length > REPLAY_EVENTS) replay.splice(0, replay.length - REPLAY_EVENTS);
      for (const listener of listeners.get(name) ?? []) listener(checked, seq);
    },
    lastSeq: () => seq,
    since(after) {
      const first = replay[0]?.seq ?? seq + 1;
      return { events: replay.filter((e) => e.seq > after), complete: after >= first - 1 };
    },
  };
}
