/** Habits as creators define them, contacts' subscriptions, and their check-ins. */
import type { CheckInDay, HabitCalendar, LocalDate } from './habit-days.js';

export interface Habit extends HabitCalendar {
  id: string;
  botId: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface HabitInput {
  name: string;
  localTime: string;
  daysOfWeek?: number[] | undefined;
  timesPerWeek?: number | null | undefined;
}

/** Fields to change; absent or undefined ones stay (timesPerWeek null clears the weekly target). */
export type HabitPatch = { [K in keyof HabitInput]?: HabitInput[K] | undefined };

export type SubscriptionStatus = 'active' | 'paused' | 'stopped';

export interface HabitSubscription {
  id: string;
  habitId: string;
  botId: string;
  contactId: string;
  conversationId: string;
  status: SubscriptionStatus;
  startedOn: LocalDate;
  createdAt: Date;
}

export interface CheckIn extends CheckInDay {
  source: 'button' | 'text' | 'api';
  recordedAt: Date;
}

export interface HabitStore {
  insert(botId: string, input: HabitInput): Promise<Habit>;
  list(botId: string): Promise<Habit[]>;
  get(botId: string, habitId: string): Promise<Habit | null>;
  /** The bot's habit named so (any case), or with that id. */
  byNameOrId(botId: string, nameOrId: string): Promise<Habit | null>;
  update(botId: string, habitId: string, patch: HabitPatch): Promise<Habit | null>;
  delete(botId: string, habitId: string): Promise<boolean>;
  /** The contact's subscription, created active or made active again; `created` when it is new. */
  subscribe(input: { habitId: string; botId: string; contactId: string; conversationId: string; startedOn: LocalDate }): Promise<{ subscription: HabitSubscription; created: boolean }>;
  subscription(botId: string, subscriptionId: string): Promise<HabitSubscription | null>;
  subscriptions(botId: string, habitId: string): Promise<HabitSubscription[]>;
  /** The contact's subscriptions in the given statuses, oldest first. */
  ofContact(contactId: string, statuses: SubscriptionStatus[]): Promise<HabitSubscription[]>;
  setStatus(subscriptionId: string, status: SubscriptionStatus): Promise<void>;
  /** Records (or corrects) the check-in of one local day; idempotent. */
  checkIn(subscriptionId: string, day: CheckInDay, source: CheckIn['source']): Promise<void>;
  checkIns(subscriptionId: string): Promise<CheckIn[]>;
  /** The latest local date the subscription was asked for (sent, skipped or failed: not one still scheduled), or null. */
  lastAsked(subscriptionId: string): Promise<LocalDate | null>;
  /** The contact's latest habit ask that went out since `since`: its effect key. */
  latestAsk(contactId: string, since: Date): Promise<string | null>;
}
