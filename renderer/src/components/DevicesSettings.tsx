// This account's devices: each one's name, whether it is this device, when it was added, and its state; this
// device's name can be changed, another can be revoked (after a confirmation: a revoked device reads nothing new),
// and a new install waiting to be linked is approved with the code it shows.
import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../bridge/index.ts';
import { useDevices, type Device } from '../state/devices.ts';
import { approveDevice, loadDevices, renameThisDevice, revokeDevice } from '../state/trust-actions.ts';
import { ErrorLine } from './ErrorLine.tsx';

const STATUS: Record<Device['status'], string> = { active: 'Active', pending: 'Waiting for approval', revoked: 'Revoked' };
const added = (iso: string) => new Date(iso).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

function RenameForm({ device, onDone }: { device: Device; onDone(): void }) {
  const [name, setName] = useState(device.name);
  const [error, setError] = useState<string>();
  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await renameThisDevice(name);
      onDone();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <form className="inline-form" onSubmit={save}>
      <label htmlFor="device-name" className="visually-hidden">Name of this device</label>
      <div className="row">
        <input id="device-name" value={name} maxLength={64} required autoFocus onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="primary">Save name</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </div>
      <ErrorLine error={error} />
    </form>
  );
}

function RevokeConfirm({ device, onDone }: { device: Device; onDone(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const revoke = async () => {
    setBusy(true);
    try {
      await revokeDevice(device.id);
      onDone();
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <div className="confirm" role="group" aria-labelledby={`revoke-${device.id}`}>
      <p id={`revoke-${device.id}`}>
        Revoke <strong>{device.name}</strong>? It stops receiving messages at once and your contacts stop trusting it. This cannot be undone.
      </p>
      <div className="row">
        <button type="button" className="danger" disabled={busy} autoFocus onClick={() => void revoke()}>Revoke {device.name}</button>
        <button type="button" onClick={onDone}>Keep it</button>
      </div>
      <ErrorLine error={error} />
    </div>
  );
}

function DeviceEntry({ device }: { device: Device }) {
  const [mode, setMode] = useState<'view' | 'rename' | 'revoke'>('view');
  return (
    <li className="device" data-status={device.status} aria-label={`${device.name}${device.current ? ', this device' : ''}`}>
      <div className="device-line">
        <span className="device-name">{device.name}</span>
        {device.current && <span className="tag">This device</span>}
        <span className="hint">Added {added(device.createdAt)} · {STATUS[device.status]}</span>
        {mode === 'view' && device.current && <button type="button" onClick={() => setMode('rename')}>Rename</button>}
        {mode === 'view' && !device.current && device.status === 'active' && <button type="button" onClick={() => setMode('revoke')}>Revoke…</button>}
      </div>
      {mode === 'rename' && <RenameForm device={device} onDone={() => setMode('view')} />}
      {mode === 'revoke' && <RevokeConfirm device={device} onDone={() => setMode('view')} />}
    </li>
  );
}

function ApproveForm() {
  const [code, setCode] = useState('');
  const [state, setState] = useState<{ busy?: boolean; done?: boolean; error?: string }>({});
  const approve = async (event: FormEvent) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      await approveDevice(code);
      setCode('');
      setState({ done: true });
    } catch (failure) {
      setState({ error: errorText(failure) });
    }
  };
  return (
    <form className="field" onSubmit={approve}>
      <label htmlFor="approve-code">Link a new device: the code it shows</label>
      <div className="row">
        <input id="approve-code" value={code} required spellCheck={false} autoComplete="off" aria-describedby="approve-hint" onChange={(e) => setCode(e.target.value)} />
        <button type="submit" disabled={state.busy}>Approve</button>
      </div>
      <span id="approve-hint" className="hint">On the new computer choose “Link to an existing account”; it shows a code starting WDL1.</span>
      <span role="status" className="hint">{state.done ? 'Approved: the new device is linking now.' : ''}</span>
      <ErrorLine error={state.error} />
    </form>
  );
}

export function DevicesSettings() {
  const { devices, loading, error } = useDevices();
  useEffect(() => {
    void loadDevices();
  }, []);
  return (
    <section className="devices" aria-labelledby="devices-title">
      <h3 id="devices-title">Devices</h3>
      {error && <p className="error-line" role="alert">Could not list your devices: {error}</p>}
      {!devices && loading && <p role="status" className="waiting">Listing your devices…</p>}
      {devices && (
        <ul className="device-list" aria-label="Your devices">
          {devices.filter((d) => d.status !== 'revoked').map((d) => <DeviceEntry key={d.id} device={d} />)}
        </ul>
      )}
      {devices?.some((d) => d.status === 'revoked') && (
        <p className="hint">Revoked: {devices.filter((d) => d.status === 'revoked').map((d) => d.name).join(', ')}</p>
      )}
      <ApproveForm />
    </section>
  );
}
