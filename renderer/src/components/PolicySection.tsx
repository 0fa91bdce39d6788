// The org policy in settings: what this device enforces, for everyone; for an admin on the device that holds the
// org key (or any admin while the org has none), a form that signs and publishes a new version. And the shredder,
// run on demand, saying what it removed.
import { useEffect, useState, type FormEvent } from 'react';
import { api, errorText, type Response } from '../bridge/index.ts';
import { BURN_CHOICES, durationLabel, EXPIRE_CHOICES, withCurrent, type TimerChoice } from '../lib/timers.ts';
import { useSession } from '../state/session.ts';
import { ErrorLine } from './ErrorLine.tsx';
import { describeFileRules, fileRulesChange, fileRulesOf, PolicyFileFields } from './PolicyFileFields.tsx';

type PolicyInfo = Response<'policy.get'>;

/** `none`: what 0 means, as the choice reads: "No limit" for a longest-allowed cap, "Off" for a default timer. */
function TimerSelect({ id, label, none, choices, value, onChange }: { id: string; label: string; none: string; choices: TimerChoice[]; value: number; onChange(seconds: number): void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        <option value={0}>{none}</option>
        {withCurrent(choices, value || undefined).map((c) => <option key={c.seconds} value={c.seconds}>{c.label}</option>)}
      </select>
    </div>
  );
}

function PolicyForm({ info, onSaved }: { info: PolicyInfo; onSaved(next: PolicyInfo): void }) {
  const { policy } = info;
  const [maxExpire, setMaxExpire] = useState(policy.maxExpireSeconds ?? 0);
  const [maxBurn, setMaxBurn] = useState(policy.maxBurnSeconds ?? 0);
  const [defaultExpire, setDefaultExpire] = useState(policy.defaultExpireSeconds ?? 0);
  const [requireTimer, setRequireTimer] = useState(policy.requireTimer ?? false);
  const [fileRules, setFileRules] = useState(() => fileRulesOf(policy));
  const [state, setState] = useState<{ saved?: boolean; error?: string }>({});
  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const next = await api().call('policy.set', {
        maxExpireSeconds: maxExpire || null, maxBurnSeconds: maxBurn || null, defaultExpireSeconds: defaultExpire || null, requireTimer: requireTimer || null,
        ...fileRulesChange(fileRules),
      });
      onSaved({ ...info, policy: next, canSign: true });
      setState({ saved: true });
    } catch (failure) {
      setState({ error: errorText(failure) });
    }
  };
  return (
    <form onSubmit={save}>
      <TimerSelect id="policy-max-expire" label="Longest a message may live" none="No limit" choices={EXPIRE_CHOICES} value={maxExpire} onChange={setMaxExpire} />
      <TimerSelect id="policy-max-burn" label="Longest burn after reading" none="No limit" choices={BURN_CHOICES} value={maxBurn} onChange={setMaxBurn} />
      {/* no default timer: messages that set none are kept (or refused, below), which "No limit" would not say */}
      <TimerSelect id="policy-default-expire" label="Default timer, for messages that set none" none="Off" choices={EXPIRE_CHOICES} value={defaultExpire} onChange={setDefaultExpire} />
      <div className="check">
        <input type="checkbox" id="policy-require-timer" checked={requireTimer} onChange={(e) => setRequireTimer(e.target.checked)} />
        <label htmlFor="policy-require-timer">Every message must disappear</label>
      </div>
      <PolicyFileFields rules={fileRules} onChange={setFileRules} />
      <button type="submit">Sign and publish</button>
      <span role="status" className="hint">{state.saved ? `Published: version ${info.policy.version}.` : ''}</span>
      <ErrorLine error={state.error} />
    </form>
  );
}

function describe(policy: PolicyInfo['policy']): string[] {
  if (policy.version === 0) return ['No org policy: timers are up to each message and conversation.'];
  const limit = (s: number | undefined) => (s === undefined ? 'no limit' : durationLabel(s));
  return [
    `Version ${policy.version}.`, `Messages live at most: ${limit(policy.maxExpireSeconds)}.`, `Burn after reading at most: ${limit(policy.maxBurnSeconds)}.`,
    `Messages without a timer: ${policy.defaultExpireSeconds !== undefined ? `disappear after ${durationLabel(policy.defaultExpireSeconds)}` : policy.requireTimer ? 'refused' : 'kept'}.`,
    ...describeFileRules(policy),
  ];
}

export function PolicySection() {
  const admin = useSession((s) => s.me?.admin ?? false);
  const [info, setInfo] = useState<PolicyInfo>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api().call('policy.get', {}).then(setInfo, (failure: unknown) => setError(errorText(failure)));
  }, []);
  return (
    <fieldset>
      <legend>Org policy</legend>
      {info && describe(info.policy).map((line) => <p key={line} className="hint">{line}</p>)}
      {info && admin && (info.canSign || info.org === null) && <PolicyForm info={info} onSaved={setInfo} />}
      {info && admin && !info.canSign && info.org !== null && <p className="hint">Change it on the admin device that holds the organisation key.</p>}
      <ErrorLine error={error} />
    </fieldset>
  );
}

export function ShredNow() {
  const [report, setReport] = useState<string>();
  const [error, setError] = useState<string>();
  const run = async () => {
    setError(undefined);
    try {
      const r = await api().call('vault.shred', {});
      setReport(`Removed ${r.rows} messages; ${r.pages} pages and ${r.files} files shredded.`);
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <div className="field">
      <button type="button" onClick={() => void run()}>Shred now</button>
      <span role="status" className="hint">{report ?? ''}</span>
      <ErrorLine error={error} />
    </div>
  );
}
