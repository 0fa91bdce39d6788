// What the renderer's frames spend their time on while the benchmark scrolls (`node bench/ui.bench.ts --trace DIR`):
// a Chromium timeline trace of the renderer's main thread and a V8 CPU profile, both saved to DIR (open them in
// DevTools' Performance panel), and summarised here as the main thread's self time by trace event (script, style,
// layout, paint...) and the JavaScript functions with the most self time. The bundle is minified: build it with
// `npx vite build --minify false` first for readable function names (any source change rebuilds it minified).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'v8.execute'];

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Recording {
  /** saves the trace and the profile into `dir` as `<name>.trace.json` and `<name>.cpuprofile`; returns the summary */
  stop(dir: string, name: string): Promise<string>;
}

export async function startRecording(browser: Browser, page: Page, cdp: CDPSession): Promise<Recording> {
  await browser.startTracing(page, { categories: CATEGORIES });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return {
    async stop(dir, name) {
      const { profile } = await cdp.send('Profiler.stop') as { profile: CpuProfile };
      const raw = await browser.stopTracing();
      writeFileSync(path.join(dir, `${name}.trace.json`), raw);
      writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
      return summarise((JSON.parse(raw.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents, profile);
    },
  };
}

/** Self time (ms) per event name on the renderer's main thread: an event's duration less its children's. */
function mainThreadSelfTimes(events: TraceEvent[]): Map<string, number> {
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const complete = events.filter((e) => main && e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const self = new Map<string, number>();
  const stack: TraceEvent[] = [];
  const add = (name: string, us: number) => self.set(name, (self.get(name) ?? 0) + us / 1000);
  for (const event of complete) {
    while (stack.length && stack.at(-1)!.ts + stack.at(-1)!.dur! <= event.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) add(parent.name, -event.dur!);
    add(event.name, event.dur!);
    stack.push(event);
  }
  return self;
}

/** Self time (ms) per JavaScript function, named with where it is in the bundle. */
function functionSelfTimes(profile: CpuProfile): Map<string, number> {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)!.callFrame;
    const where = frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}:${frame.columnNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return self;
}

const top = (times: Map<string, number>, count: number) => [...times].sort((a, b) => b[1] - a[1]).slice(0, count);

function summarise(events: TraceEvent[], profile: CpuProfile): string {
  const main = mainThreadSelfTimes(events);
  const busy = [...main.values()].reduce((a, b) => a + b, 0);
  const functions = functionSelfTimes(profile);
  const lines = [`main thread busy ${busy.toFixed(0)} ms; self time by trace event:`];
  for (const [name, ms] of top(main, 14)) lines.push(`  ${ms.toFixed(0).padStart(6)} ms  ${(100 * ms / busy).toFixed(1).padStart(5)} %  ${name}`);
  lines.push('JavaScript self time by function:');
  for (const [name, ms] of top(functions, 25)) lines.push(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  return lines.join('\n');
}
