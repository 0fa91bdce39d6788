// The relay's state, always in view: online, connecting or reconnecting, offline (and when the next try is), or this
// window's own link to the app host lost.
import { useEffect, useState } from 'react';
import { useConnection } from '../state/connection.ts';

function useSecondsLeft(retryInMs: number | undefined, retryFrom: number | undefined): number | undefined {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (retryInMs === undefined) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, [retryInMs, retryFrom]);
  if (retryInMs === undefined || retryFrom === undefined) return undefined;
  return Math.max(0, Math.ceil((retryFrom + retryInMs - now) / 1000));
}

export function ConnectionStatus() {
  const { relay, retryInMs, retryFrom, wasOnline, link } = useConnection();
  const seconds = useSecondsLeft(retryInMs, retryFrom);
  let state: string = relay;
  let label: string;
  if (!link) {
    state = 'offline';
    label = 'App host unreachable, reconnecting…';
  } else if (relay === 'untrusted') {
    // an alarm, not an outage: someone may be intercepting the connection, and nothing is retried (the workspace's
    // alarm banner, UntrustedBanner, says it in full with the engine's line)
    label = 'Alarm: the relay\'s certificate does not match — not connected';
  } else if (relay === 'online') {
    label = 'Online';
  } else if (relay === 'offline') {
    label = seconds === undefined ? 'Offline' : seconds > 0 ? `Offline — retrying in ${seconds} s` : 'Offline — retrying now';
  } else {
    state = 'connecting';
    label = wasOnline ? 'Reconnecting…' : 'Connecting…';
  }
  return (
    <div className="connection" data-state={state} role="status" aria-label={`Connection: ${label}`}>
      <span className="dot" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
