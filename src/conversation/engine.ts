import { TurnError } from './conversation.errors.js';
import { contextStep } from './steps/context.step.js';
import { gateStep } from './steps/gate.step.js';
import { generateStep } from './steps/generate.step.js';
import { memoryStep } from './steps/memory.step.js';
import { promptStep } from './steps/prompt.step.js';
import { replyStep } from './steps/reply.step.js';
import { retrieveStep } from './steps/retrieve.step.js';
import { DEFAULT_OPTIONS, type EngineOptions, type EnginePorts, type Step, type StepDeps, type TurnState } from './turn-state.js';
import type { BotProfile, TurnHooks, TurnInput, TurnResult, TurnStage } from './types.js';

export type { EngineOptions, EnginePorts } from './turn-state.js';

const PIPELINE: readonly Step[] = [contextStep, memoryStep, retrieveStep, gateStep, promptStep, generateStep, replyStep];

/**
 * Answers one turn of a conversation: context → memory → retrieve → relevance gate → prompt →
 * generate → reply. Pure domain logic; the outside world comes in through the ports.
 */
export class ConversationEngine {
  private readonly deps: StepDeps;

  constructor(ports: EnginePorts, options: EngineOptions = {}) {
    const tunables = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.deps = { ...ports, options: { ...DEFAULT_OPTIONS, ...tunables } };
  }

  /** Runs the pipeline for one turn; any failure surfaces as a TurnError naming the step. */
  async runTurn(bot: BotProfile, input: TurnInput, hooks: TurnHooks = {}): Promise<TurnResult> {
    const state: TurnState = {
      bot,
      input,
      hooks,
      userText: '',
      history: [],
      retrieved: [],
      relevant: [],
      generated: '',
      streamed: '',
    };
    let stage: TurnStage = 'context';
    try {
      for (const step of PIPELINE) {
        stage = step.stage;
        hooks.onStage?.(stage);
        const result = await step.run(state, this.deps);
        if (result) return result;
      }
    } catch (err) {
      throw new TurnError(stage, err, state.streamed);
    }
    // The reply step always returns; reaching here means the pipeline was edited wrongly.
    throw new TurnError(stage, new Error('the pipeline ended without a reply'), state.streamed);
  }
}
