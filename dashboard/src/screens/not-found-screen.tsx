import { Link } from 'react-router';
import { PageHeading } from '../ui';

/** A dashboard address that names no screen. */
export function NotFoundScreen() {
  return (
    <section>
      <PageHeading title="Not found">This page does not exist</PageHeading>
      <p>
        The address may be mistyped or old. <Link to="/">Go to your bots</Link>.
      </p>
    </section>
  );
}
