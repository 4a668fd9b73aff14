/** The few fixed things the engine says itself, in the languages creators most often pick. */

const UNKNOWN: Record<string, string> = {
  en: "Good question! I couldn't find that in the material I coach from, and I'd rather not guess. Could you tell me a bit more, or ask me about something else we cover?",
  de: 'Gute Frage! Dazu habe ich in meinem Material nichts gefunden, und raten möchte ich nicht. Magst du mir etwas mehr erzählen oder mich etwas anderes zu unseren Themen fragen?',
  es: '¡Buena pregunta! No encontré eso en el material con el que trabajo y prefiero no adivinar. ¿Me cuentas un poco más o me preguntas sobre otro tema que tratemos?',
  fr: "Bonne question ! Je n'ai rien trouvé à ce sujet dans le contenu sur lequel je m'appuie, et je préfère ne pas deviner. Peux-tu m'en dire un peu plus, ou me poser une question sur un autre sujet que nous abordons ?",
  pt: 'Boa pergunta! Não encontrei isso no material em que me baseio e prefiro não adivinhar. Pode me contar um pouco mais ou perguntar sobre outro tema que abordamos?',
  it: 'Bella domanda! Non ho trovato nulla su questo nel materiale su cui mi baso e preferisco non tirare a indovinare. Puoi dirmi qualcosa in più o chiedermi di un altro argomento che trattiamo?',
  nl: 'Goede vraag! Ik heb dat niet gevonden in het materiaal waarmee ik coach, en ik gok liever niet. Kun je me wat meer vertellen, of iets anders vragen over de onderwerpen die we behandelen?',
};

const ATTACHMENTS_ONLY: Record<string, string> = {
  en: "Thanks for sending that! I can only read text messages for now — could you type your question for me?",
  de: 'Danke dafür! Ich kann im Moment nur Textnachrichten lesen – magst du mir deine Frage schreiben?',
  es: '¡Gracias por enviarlo! Por ahora solo puedo leer mensajes de texto: ¿me escribes tu pregunta?',
  fr: "Merci pour l'envoi ! Pour l'instant je ne lis que les messages texte : peux-tu m'écrire ta question ?",
  pt: 'Obrigado por enviar! Por enquanto só consigo ler mensagens de texto — pode escrever sua pergunta?',
  it: 'Grazie per averlo inviato! Per ora leggo solo messaggi di testo: puoi scrivermi la tua domanda?',
  nl: 'Bedankt voor het sturen! Ik kan voorlopig alleen tekstberichten lezen — wil je je vraag voor me typen?',
};

const DOCUMENT_READ: Record<string, string> = {
  en: 'Thanks, I have read “{name}”. What would you like to know about it?',
  de: 'Danke, ich habe „{name}“ gelesen. Was möchtest du darüber wissen?',
  es: 'Gracias, he leído «{name}». ¿Qué te gustaría saber al respecto?',
  fr: "Merci, j'ai lu « {name} ». Que veux-tu savoir à ce sujet ?",
  pt: 'Obrigado, li “{name}”. O que você gostaria de saber sobre ele?',
  it: 'Grazie, ho letto «{name}». Cosa vorresti sapere al riguardo?',
  nl: 'Bedankt, ik heb ‘{name}’ gelezen. Wat wil je erover weten?',
};

const HUMAN_REQUESTED: Record<string, string> = {
  en: "Of course — I've let the team know you'd like to talk to a person. Someone will answer you here as soon as they can.",
  de: 'Natürlich – ich habe dem Team Bescheid gegeben, dass du mit einem Menschen sprechen möchtest. Jemand antwortet dir hier, so bald es geht.',
  es: 'Por supuesto: he avisado al equipo de que quieres hablar con una persona. Alguien te responderá aquí en cuanto pueda.',
  fr: "Bien sûr — j'ai prévenu l'équipe que tu souhaites parler à une personne. Quelqu'un te répondra ici dès que possible.",
  pt: 'Claro — avisei a equipe que você quer falar com uma pessoa. Alguém vai te responder aqui assim que puder.',
  it: 'Certo: ho avvisato il team che vorresti parlare con una persona. Qualcuno ti risponderà qui appena possibile.',
  nl: 'Natuurlijk — ik heb het team laten weten dat je met een mens wilt praten. Iemand antwoordt je hier zo snel mogelijk.',
};

function pick(table: Record<string, string>, language: string): string {
  const primary = language.toLowerCase().split('-')[0] ?? 'en';
  return table[primary] ?? (table.en as string);
}

/** The default "I don't know" reply, used when the bot has no `unknownAnswer` of its own. */
export function defaultUnknownAnswer(language: string): string {
  return pick(UNKNOWN, language);
}

/** Every default "I don't know" reply by primary language subtag; `en` is the fallback, as in `defaultUnknownAnswer`. */
export function defaultUnknownAnswers(): Readonly<Record<string, string>> {
  return UNKNOWN;
}

/** Said when a turn holds attachments but no text. */
export function attachmentsOnlyAnswer(language: string): string {
  return pick(ATTACHMENTS_ONLY, language);
}

/** Said when the user sent a document without a question: it was read, so ask what they want to know. */
export function documentReadAnswer(language: string, name: string): string {
  return pick(DOCUMENT_READ, language).replace('{name}', name);
}

/** Said when the user asks for a person: someone will answer in this same chat. */
export function humanRequestedAnswer(language: string): string {
  return pick(HUMAN_REQUESTED, language);
}

// Letters and digits only, lowercased: "Talk to a human!" and "talk to a HUMAN" read the same.
const normalise = (text: string) => ` ${text.toLowerCase().normalize('NFKC').replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;

/** Whether `text` holds one of the bot's handoff phrases as whole words (case and punctuation aside). */
export function asksForHuman(text: string, phrases: readonly string[]): boolean {
  const said = normalise(text);
  return phrases.some((phrase) => {
    const wanted = normalise(phrase);
    return wanted.trim() !== '' && said.includes(wanted);
  });
}

// Built once: constructing Intl.DisplayNames costs more than assembling a whole prompt.
let languageNames: Intl.DisplayNames | undefined;

/** The English name of a language code ('pt-BR' → 'Brazilian Portuguese'), for instructions to the model. */
export function languageName(code: string): string {
  try {
    return (languageNames ??= new Intl.DisplayNames(['en'], { type: 'language' })).of(code) ?? code;
  } catch {
    // An invalid tag is still better passed through than dropped.
    return code;
  }
}
