// Where an outgoing message has got to: waiting to leave, on the relay, on the recipient's device, read, or failed.
import type { Message } from '../state/types.ts';

const LABELS: Record<Message['status'], string> = {
  pending: 'Sending…',
  held: 'Held: their safety number changed',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

const MARKS: Record<Message['status'], string> = { pending: '◷', held: '⚠', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

export function DeliveryState({ status }: { status: Message['status'] }) {
  return (
    <span className="delivery" data-status={status}>
      <span aria-hidden="true">{MARKS[status]}</span> {LABELS[status]}
    </span>
  );
}
