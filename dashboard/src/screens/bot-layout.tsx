import { useQuery } from '@tanstack/react-query';
import { Link, NavLink, Outlet, useParams } from 'react-router';
import { api } from '../api';
import type { Bot } from '../types';
import { ErrorMessage, Loading } from '../ui';

/** The bot's name, its sections as tabs, and the section shown. */
export function BotLayout() {
  const { botId } = useParams() as { botId: string };
  const bot = useQuery({ queryKey: ['bot', botId], queryFn: () => api<Bot>(`/v1/bots/${botId}`) });
  if (bot.isPending) return <Loading what="the bot" />;
  if (bot.error)
    return (
      <>
        <ErrorMessage error={bot.error} />
        <p>
          <Link to="/">Back to your bots</Link>
        </p>
      </>
    );
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/">Your bots</Link> <span aria-hidden="true">/</span> <span>{bot.data.name}</span>
      </nav>
      <nav aria-label="Bot sections" className="tabs">
        <NavLink to="knowledge">Knowledge</NavLink>
        <NavLink to="try">Try it</NavLink>
        <NavLink to="channels">Publish</NavLink>
        <NavLink to="inbox">Inbox</NavLink>
        <NavLink to="coaching">Coaching</NavLink>
        <NavLink to="deliveries">Deliveries</NavLink>
        <NavLink to="analytics">Analytics</NavLink>
        <NavLink to="settings">Settings</NavLink>
      </nav>
      <Outlet context={bot.data} />
    </>
  );
}
