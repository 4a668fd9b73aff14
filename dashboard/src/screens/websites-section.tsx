import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { api } from '../api';
import type { Site, SitePage } from '../types';
import { ConfirmButton, DetailPanel, Field, FormProblems, ListStates, RecordTable, RowActions, When } from '../ui';

const siteStatusWords: Record<Site['status'], string> = { queued: 'Waiting', crawling: 'Reading', ready: 'Ready', failed: 'Failed' };
const pageStatusWords: Record<SitePage['status'], string> = { queued: 'Waiting', processing: 'Reading', ready: 'Ready', failed: 'Failed' };
const PAGES_SHOWN = 20;

interface AddSiteForm {
  url: string;
  maxPages: string;
  useSitemap: boolean;
}

/** A site's address without the scheme, as people say it. */
const shortUrl = (url: string) => url.replace(/^https?:\/\//, '').replace(/\/$/, '');

/** Websites in the knowledge base: add one, follow its reading, sync it again, see its pages, delete it. */
export function WebsitesSection({ botId }: { botId: string }) {
  const queries = useQueryClient();
  const sitesKey = ['sites', botId];
  const sites = useQuery({
    queryKey: sitesKey,
    queryFn: () => api<{ sites: Site[] }>(`/v1/bots/${botId}/sites`),
    // Followed while a site is being read; its pages join the documents as they are found.
    refetchInterval: (query) => (query.state.data?.sites.some((s) => s.status === 'queued' || s.status === 'crawling') ? 1500 : false),
  });
  // Pages become documents as a site is read: the documents list follows each poll, and once more after the last.
  const wasReading = useRef(false);
  useEffect(() => {
    const reading = !!sites.data?.sites.some((s) => s.status === 'queued' || s.status === 'crawling');
    if (reading || wasReading.current) void queries.invalidateQueries({ queryKey: ['documents', botId] });
    wasReading.current = reading;
  }, [sites.data, queries, botId]);
  const [openSite, setOpenSite] = useState<Site | null>(null);
  const refresh = async () => {
    await queries.invalidateQueries({ queryKey: sitesKey });
    await queries.invalidateQueries({ queryKey: ['documents', botId] });
  };
  const sync = useMutation({ mutationFn: (id: string) => api(`/v1/bots/${botId}/sites/${id}/sync`, { method: 'POST' }), onSettled: refresh });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/bots/${botId}/sites/${id}`, { method: 'DELETE' }),
    onSuccess: (_, id) => {
      if (openSite?.id === id) setOpenSite(null);
    },
    onSettled: refresh,
  });
  const list = sites.data?.sites ?? [];
  // The open site as last fetched, so its pages keep being followed while it is read.
  const current = openSite ? list.find((s) => s.id === openSite.id) : undefined;

  return (
    <section aria-labelledby="websites">
      <h2 id="websites">Websites</h2>
      <AddWebsite botId={botId} added={refresh} />
      <ListStates what="the websites" pending={sites.isPending} error={sites.error ?? sync.error ?? remove.error} empty={!!sites.data && list.length === 0} emptyTitle="No websites yet">
        Add your blog or course site above; its pages are read and kept in sync.
      </ListStates>
      {list.length ? (
        <RecordTable caption="Websites and their state" columns={['Website', 'Status', 'Pages', 'Last sync']} actions className="stack-on-phone">
          {list.map((site) => (
            <tr key={site.id}>
              <td>
                <span className="doc-title">{shortUrl(site.rootUrl)}</span>
                {site.error ? <p className="field-error">{site.error}</p> : null}
              </td>
              <td>
                <span className={`badge ${site.status}`} data-status={site.status}>
                  {siteStatusWords[site.status]}
                </span>
              </td>
              <td data-label="Pages">{site.pagesFound}</td>
              <td data-label="Last sync">{site.lastSyncedAt ? <When at={site.lastSyncedAt} /> : 'Not yet'}</td>
              <RowActions>
                <button type="button" className="button secondary small" aria-label={`Pages of ${shortUrl(site.rootUrl)}`} onClick={() => setOpenSite(site)}>
                  Pages
                </button>
                <button
                  type="button"
                  className="button secondary small"
                  aria-label={`Sync now: ${shortUrl(site.rootUrl)}`}
                  disabled={site.status === 'queued' || site.status === 'crawling' || sync.isPending}
                  onClick={() => sync.mutate(site.id)}
                >
                  Sync now
                </button>
                <ConfirmButton
                  name={`Delete ${shortUrl(site.rootUrl)}`}
                  question={`Delete ${shortUrl(site.rootUrl)} and its ${site.pagesFound} pages? The bot will no longer answer from them.`}
                  onConfirm={() => remove.mutate(site.id)}
                >
                  Delete
                </ConfirmButton>
              </RowActions>
            </tr>
          ))}
        </RecordTable>
      ) : null}
      {openSite ? (
        <SitePages key={openSite.id} botId={botId} site={current ?? openSite} onClose={() => setOpenSite(null)} />
      ) : null}
    </section>
  );
}

/** The form that adds a website: its address, how many pages at most, and whether to read its sitemap. */
function AddWebsite({ botId, added }: { botId: string; added: () => Promise<void> }) {
  const { register, handleSubmit, reset, formState } = useForm<AddSiteForm>({ defaultValues: { url: '', maxPages: '100', useSitemap: true } });
  const add = useMutation({
    mutationFn: (form: AddSiteForm) =>
      api<Site>(`/v1/bots/${botId}/documents`, {
        method: 'POST',
        body: { url: form.url.trim(), crawl: { sitemap: form.useSitemap, maxPages: Number(form.maxPages), sameOrigin: true } },
      }),
    onSuccess: async () => {
      reset();
      await added();
    },
  });
  const errors = formState.errors;
  return (
    <form aria-label="Add a website" className="panel" onSubmit={handleSubmit((form) => add.mutate(form))} noValidate>
      <h3>Add a website</h3>
      <p className="hint">Its pages on the same site are read (robots.txt is honoured) and read again regularly, so the bot follows your edits.</p>
      <div className="form-grid">
        <Field label="Website address" hint="The start page, e.g. https://example.com/blog/." error={errors.url?.message}>
          {(props) => (
            <input
              {...props}
              type="url"
              inputMode="url"
              autoComplete="url"
              spellCheck={false}
              {...register('url', { required: 'Enter the website’s address', pattern: { value: /^https?:\/\/\S+$/i, message: 'An address starting with https:// or http://' } })}
            />
          )}
        </Field>
        <Field label="Pages at most" error={errors.maxPages?.message}>
          {(props) => (
            <input
              {...props}
              type="number"
              min={1}
              step={1}
              {...register('maxPages', { required: 'How many pages at most?', min: { value: 1, message: 'At least 1' }, pattern: { value: /^\d+$/, message: 'A whole number' } })}
            />
          )}
        </Field>
      </div>
      <div className="checkbox">
        <input id={`use-sitemap-${botId}`} type="checkbox" {...register('useSitemap')} />
        <label htmlFor={`use-sitemap-${botId}`}>Use the site’s sitemap (otherwise follow its links)</label>
      </div>
      <FormProblems problem="" error={add.error} />
      <div className="button-row">
        <button type="submit" className="button" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add website'}
        </button>
      </div>
    </form>
  );
}

/** A website's pages, twenty at a time, each with its state and why it could not be read. */
function SitePages({ botId, site, onClose }: { botId: string; site: Site; onClose: () => void }) {
  const [shown, setShown] = useState(PAGES_SHOWN);
  const pages = useQuery({
    queryKey: ['site-pages', botId, site.id],
    queryFn: () => api<{ pages: SitePage[] }>(`/v1/bots/${botId}/sites/${site.id}/pages`),
    refetchInterval: (query) =>
      site.status === 'queued' || site.status === 'crawling' || query.state.data?.pages.some((p) => p.status === 'queued' || p.status === 'processing') ? 1500 : false,
  });
  const list = pages.data?.pages ?? [];
  return (
    <DetailPanel title={`Pages of ${shortUrl(site.rootUrl)}`} onClose={onClose}>
      <ListStates
        what="the pages"
        pending={pages.isPending}
        error={pages.error}
        empty={!!pages.data && list.length === 0}
        emptyTitle={site.status === 'failed' ? 'No pages could be read' : 'No pages yet'}
      >
        {site.status === 'failed' ? 'Fix what the status says, then choose “Sync now”.' : 'Pages appear here as the site is read.'}
      </ListStates>
      {list.length ? (
        <>
          <RecordTable caption={`Pages of ${shortUrl(site.rootUrl)}`} columns={['Page', 'Status', 'Passages']}>
            {list.slice(0, shown).map((page) => (
              <tr key={page.documentId}>
                <td>
                  <span className="doc-title">{page.title}</span>
                  <span className="muted wrap-anywhere"> · {shortUrl(page.url)}</span>
                  {page.error ? <p className="field-error">{page.error}</p> : null}
                </td>
                <td>
                  <span className={`badge ${page.status}`}>{pageStatusWords[page.status]}</span>
                </td>
                <td data-label="Passages">{page.status === 'ready' ? page.chunks : '—'}</td>
              </tr>
            ))}
          </RecordTable>
          <p className="muted">
            {Math.min(shown, list.length)} of {list.length} pages shown.
          </p>
          {shown < list.length ? (
            <p>
              <button type="button" className="button secondary" onClick={() => setShown(shown + PAGES_SHOWN)}>
                Show more pages
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </DetailPanel>
  );
}
