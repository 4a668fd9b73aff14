import { useQuery } from '@tanstack/react-query';
import { useOutletContext } from 'react-router';
import { api } from '../api';
import type { Bot } from '../types';
import { PageHeading } from '../ui';
import { BroadcastsSection } from './coaching-broadcasts';
import { HabitsSection } from './coaching-habits';
import { ProgramsSection } from './coaching-programs';
import type { Habit, Program } from './coaching.types';

/** Programs of timed steps, daily or weekly habits and broadcasts to a segment of the bot's contacts. */
export function CoachingScreen() {
  const bot = useOutletContext<Bot>();
  const programs = useQuery({ queryKey: ['programs', bot.id], queryFn: () => api<{ programs: Program[] }>(`/v1/bots/${bot.id}/programs`) });
  const habits = useQuery({ queryKey: ['habits', bot.id], queryFn: () => api<{ habits: Habit[] }>(`/v1/bots/${bot.id}/habits`) });
  return (
    <>
      <PageHeading title="Coaching">Coaching</PageHeading>
      <p className="lead">Programs send their steps over days; habits ask each subscriber at their own local time; broadcasts send one message to a group of contacts.</p>
      <ProgramsSection bot={bot} programs={programs} />
      <HabitsSection botId={bot.id} habits={habits} />
      <BroadcastsSection botId={bot.id} programs={programs.data?.programs ?? []} habits={habits.data?.habits ?? []} />
    </>
  );
}
