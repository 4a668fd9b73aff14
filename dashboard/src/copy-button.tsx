import { useState } from 'react';

/** A button that copies `text` and says, in a live region, whether it could. */
export function CopyButton({ text, what, label }: { text: string; what: string; label?: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid(`${what} copied.`);
    } catch {
      setSaid(`Copying is not allowed here; select the ${what.toLowerCase()} and copy it yourself.`);
    }
  };
  return (
    <>
      <button type="button" className="button secondary small" onClick={() => void copy()}>
        {label ?? `Copy ${what.toLowerCase()}`}
      </button>{' '}
      <span role="status" className="muted small copy-said">
        {said}
      </span>
    </>
  );
}
