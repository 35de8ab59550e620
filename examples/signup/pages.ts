import type { Signup } from './server.ts';

/** The example's pages: plain HTML forms, every value escaped. */
const html = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const layout = (title: string, body: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${html(title)} · Signup example</title>
    <link rel="stylesheet" href="/app.css" />
    <script type="module" src="/app.js"></script>
  </head>
  <body>
    <h1>${html(title)}</h1>
    ${body}
    <p><small>An example app for voice-otp: its backend uses <code>@voice-otp/client</code>.</small></p>
  </body>
</html>`;

const notice = (text?: string) =>
  text ? `<p id="notice" role="alert"><strong>${html(text)}</strong></p>` : '';

export const pages = {
  signupForm: (problem?: string) =>
    layout(
      'Create your account',
      `${notice(problem)}
    <form method="post" action="/signup">
      <p><label>Name<br /><input id="name" name="name" required maxlength="100" /></label></p>
      <p><label>Phone number<br /><input id="phone" name="phone" required placeholder="+14155550123" /></label></p>
      <p>Send the code by
        <label><input type="radio" id="by-call" name="channel" value="voice" checked /> a call</label>
        <label><input type="radio" id="by-sms" name="channel" value="sms" /> a text message</label></p>
      <p><button id="sign-up" type="submit">Sign up</button></p>
    </form>`,
    ),

  signupPage: (signup: Signup, problem?: string) =>
    layout(
      signup.verifiedAt ? 'Welcome!' : 'Check your phone',
      signup.verifiedAt
        ? `<p id="verified">${html(signup.name || 'You')}, your number ${html(signup.phone)} is verified.</p>
    <p id="confirmed-by">Confirmed by: ${[...signup.confirmedBy].sort().join(' and ')}</p>
    ${news(signup)}`
        : `${notice(problem)}
    <p id="sent">We ${signup.channel === 'voice' ? 'are calling' : 'texted'} ${html(signup.phone)} with a code.</p>
    <form method="post" action="/signup/${signup.id}/code">
      <p><label>Code<br /><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required /></label></p>
      <p><button id="verify" type="submit">Verify</button></p>
    </form>
    ${news(signup)}`,
    ),

  styles:
    'body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; line-height: 1.5 }\n',

  message: (text: string) => layout('Signup example', `<p>${html(text)}</p>`),

  /** Refreshes the list of what the webhooks said while the page is open. */
  script: `const list = document.getElementById('news');
if (list) {
  const refresh = async () => {
    const response = await fetch(location.pathname.replace(/\\/code$/, '') + '/status.json');
    if (!response.ok) return;
    const { news, confirmedBy } = await response.json();
    list.replaceChildren(...news.map((line) => Object.assign(document.createElement('li'), { textContent: line })));
    const confirmed = document.getElementById('confirmed-by');
    if (confirmed) confirmed.textContent = 'Confirmed by: ' + confirmedBy.join(' and ');
  };
  setInterval(refresh, 1000);
}
`,
};

const news = (signup: Signup) =>
  `<h2>What voice-otp told us</h2>
    <ol id="news">${signup.news.map((line) => `<li>${html(line)}</li>`).join('')}</ol>`;
