/**
 * Recognises FAQ sheets: a question column and an answer column, named so in one of the languages
 * creators write in (Question/Answer, Q/A, FAQ, Frage/Antwort, Pregunta/Respuesta, …), or two text
 * columns without such names whose first cells are questions (they end with "?").
 */

const QUESTION_HEADERS = new Set([
  'q', 'question', 'questions', 'faq', 'faqs', 'frage', 'fragen', 'pregunta', 'preguntas', 'pergunta', 'perguntas',
  'domanda', 'domande', 'vraag', 'vragen', 'fråga', 'frågor', 'spørgsmål', 'spørsmål', 'kysymys', 'pytanie',
]);
const ANSWER_HEADERS = new Set([
  'a', 'answer', 'answers', 'antwort', 'antworten', 'respuesta', 'respuestas', 'réponse', 'réponses', 'reponse', 'reponses',
  'resposta', 'respostas', 'risposta', 'risposte', 'antwoord', 'antwoorden', 'svar', 'vastaus', 'odpowiedź',
]);

// The database's bounds on a pair; a longer row stays a passage but is not a pair.
export const MAX_FAQ_QUESTION_CHARS = 1000;
export const MAX_FAQ_ANSWER_CHARS = 4000;
// Share of filled first cells that must end with "?" for header-less columns to be an FAQ.
const QUESTION_SHARE = 0.8;

/** "Question(s):", " Q. " → "question", "q". */
function headerKey(header: string): string {
  return header
    .toLowerCase()
    .replace(/\(s\)/g, 's')
    .replace(/[\s:.*#"'()[\]-]+/g, '')
    .trim();
}

function isQuestion(text: string): boolean {
  return /[?？]\s*$/.test(text);
}

/** The question and answer columns, or undefined when the sheet is no FAQ. */
function faqColumns(headers: readonly string[] | undefined, rows: ReadonlyArray<{ cells: string[] }>): { question: number; answer: number } | undefined {
  if (headers) {
    const keys = headers.map(headerKey);
    const question = keys.findIndex((k) => QUESTION_HEADERS.has(k));
    const answer = keys.findIndex((k, i) => i !== question && ANSWER_HEADERS.has(k));
    if (question !== -1 && answer !== -1) return { question, answer };
  }
  // Otherwise exactly two filled columns, the first holding questions.
  const filled = new Set<number>();
  for (const row of rows) row.cells.forEach((c, i) => c !== '' && filled.add(i));
  if (filled.size !== 2) return undefined;
  const [question, answer] = [...filled].sort((a, b) => a - b) as [number, number];
  const asked = rows.map((r) => r.cells[question] ?? '').filter((c) => c !== '');
  if (asked.length === 0 || asked.filter(isQuestion).length < asked.length * QUESTION_SHARE) return undefined;
  return { question, answer };
}

/** The FAQ pairs of a sheet's data rows (empty when it is no FAQ sheet), each with its row. */
export function faqPairs<R extends { cells: string[] }>(headers: readonly string[] | undefined, rows: readonly R[]): Array<{ question: string; answer: string; row: R }> {
  const columns = faqColumns(headers, rows);
  if (!columns) return [];
  const pairs: Array<{ question: string; answer: string; row: R }> = [];
  for (const row of rows) {
    const question = (row.cells[columns.question] ?? '').trim();
    const answer = (row.cells[columns.answer] ?? '').trim();
    if (!question || !answer || question.length > MAX_FAQ_QUESTION_CHARS || answer.length > MAX_FAQ_ANSWER_CHARS) continue;
    pairs.push({ question, answer, row });
  }
  return pairs;
}
