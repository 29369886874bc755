/** The top answers as a list with score bars (data-testid="answer" on each, label id kept). */

export interface ShownAnswer {
  answer: string;
  labelId: number;
  /** The answer head's logit; the bar shows its sigmoid. */
  score: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function renderAnswers(list: HTMLOListElement, answers: readonly ShownAnswer[]): void {
  list.replaceChildren(
    ...answers.map((a, i) => {
      const li = document.createElement('li');
      li.dataset.testid = 'answer';
      li.dataset.labelId = String(a.labelId);
      li.dataset.score = String(a.score);
      const p = sigmoid(a.score);
      const rank = Object.assign(document.createElement('span'), {
        className: 'rank',
        textContent: `${i + 1}.`,
      });
      const answer = Object.assign(document.createElement('span'), {
        className: 'answer',
        textContent: a.answer === '' ? '(empty answer)' : a.answer,
      });
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.setAttribute('role', 'meter');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', '1');
      bar.setAttribute('aria-valuenow', p.toFixed(3));
      bar.setAttribute('aria-label', `confidence of ${a.answer || 'the empty answer'}`);
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      bar.append(fill);
      const score = Object.assign(document.createElement('span'), {
        className: 'score',
        textContent: `${(100 * p).toFixed(1)} %`,
        title: `sigmoid of the answer head's logit ${a.score.toFixed(3)}`,
      });
      li.append(rank, answer, bar, score);
      return li;
    }),
  );
}
