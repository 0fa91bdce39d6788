// The alarm when the server at the relay's address is not the relay this profile enrolled with: its certificate
// does not match the pinned one. Someone may be intercepting the connection; the engine stopped connecting, and
// nothing is sent or received until it is resolved. Never worded as a slow network.
import { useConnection } from '../state/connection.ts';

export function UntrustedBanner() {
  const relay = useConnection((s) => s.relay);
  const alarm = useConnection((s) => s.alarm);
  if (relay !== 'untrusted') return null;
  return (
    <div className="banner alarm" role="alert" aria-labelledby="untrusted-title">
      <p id="untrusted-title">
        <strong>Security alert: the relay&apos;s certificate does not match the pinned one. Messages are not being sent or received.</strong>
      </p>
      <p>
        Someone may be intercepting your connection, or the relay was replaced. Wardroom stopped connecting and will not
        retry. Ask your organisation&apos;s admin whether the relay&apos;s certificate changed; do not ignore this.
      </p>
      {alarm && <p className="alarm-detail">{alarm}</p>}
    </div>
  );
}
