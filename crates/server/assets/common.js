// kakunin screens: shared helpers. Every call goes to the public API with the signed-in
// staff member's session token; nothing is rendered from HTML strings (no innerHTML), so names
// and numbers from the database cannot inject markup.
'use strict';

const K = {};

K.lang = () => localStorage.getItem('kakunin.lang') || 'ja';
K.setLang = (l) => { localStorage.setItem('kakunin.lang', l); location.reload(); };
K.token = () => sessionStorage.getItem('kakunin.token');
K.staff = () => JSON.parse(sessionStorage.getItem('kakunin.staff') || 'null');

// What each error code means for the person in front of the screen, and what to do next.
K.errors = {
  ja: {
    wrong_login: '職員IDまたはパスワードが違います。確認して、もう一度入力してください。',
    too_many_sign_ins: 'ログインの失敗が続いたため、この職員IDはしばらくログインできません。15分ほど待つか、管理者に連絡してください。',
    session_expired: 'ログインの有効期限が切れました。もう一度ログインしてください。',
    invalid_token: 'ログインが無効です。もう一度ログインしてください。',
    missing_token: 'ログインしてください。',
    other_institution: 'この受付は別の医療機関・薬局のものです。自施設の受付だけを表示・操作できます。',
    wrong_role: 'この操作は、あなたの役割では行えません。担当の職員に依頼してください。',
    invalid_transition: 'この受付はすでに処理されています（二重操作）。一覧を更新してください。',
    visual_requires_presence: 'ご本人がいない場合、目視確認はできません。薬局の代理受取は「代理受取」から処方箋または資格確認書で確認してください。',
    proxy_needs_document: 'ご本人不在のため目視確認はできません。次のどれかをご案内ください：①処方箋または資格確認書をお持ちいただき、その番号で確認する ②ご本人に来局いただき、カードで確認する ③ご本人の資格が確認できるまでお薬のお渡しを待っていただく。',
    not_found: '見つかりませんでした。番号を確認してください。',
    no_photo: 'カードリーダーから受け取った写真はありません。カード券面の顔写真とご本人を見比べてください。',
    photo_evicted: '写真が多く届いたため、この方の写真は破棄されました。カード券面の顔写真とご本人を見比べるか、カードをもう一度置いていただいてください。',
    register_before_switch: 'このカードは健康保険証利用登録がされていません。切替の前に、登録するかどうかを本人に確認してください。',
    pin_format: '暗証番号は数字4桁で入力してください。',
    pin_not_allowed_on_face_auth: '顔認証マイナンバーカードには暗証番号を設定できません。',
    already_that_kind: 'すでにその種類のカードです。',
    already_registered: 'すでに健康保険証利用登録がされています。',
    invalid_check_digit: '番号の検証番号が正しくありません。番号を確認してください。',
    invalid_format: '入力の形式が正しくありません。',
    document_expired: 'この書類は有効期限が切れています（健康保険証は2025年12月1日を最後にすべて使えません）。資格確認書かマイナ保険証を確認するか、資格申立書に記入してもらってください。',
    document_not_genuine: 'この書類は正しいものではありません（健康保険証は2024年12月2日以降発行されていません。資格確認書の有効期間は最長5年です）。',
    notice_not_valid_alone: '「資格情報のお知らせ」だけでは資格を確認できません。マイナ保険証（カード）と一緒に見せてもらうか、資格確認書・資格申立書で確認してください。',
    number_b_format: '照合番号Bは14桁の数字です（生年月日の和暦の年・月・日 6桁＋有効期限の西暦年 4桁＋セキュリティコード 4桁）。カードには送っていません。カードの表面を見て入力し直してください。',
    wrong_types: '入力の形式が正しくありません。',
    malformed_json: '送信内容が壊れています。画面を再読み込みしてください。',
    network: 'サーバーに接続できません。ネットワークを確認してください。資格確認ができない場合は「トラブル時の案内」を参照してください。',
    unknown: 'エラーが起きました。もう一度お試しください。続く場合は管理者に連絡してください。',
  },
  en: {
    wrong_login: 'The staff ID or password is wrong. Check both and try again.',
    too_many_sign_ins: 'Too many failed sign-ins for this staff ID. Wait 15 minutes or call the administrator.',
    session_expired: 'Your sign-in has expired. Please sign in again.',
    invalid_token: 'Your sign-in is not valid. Please sign in again.',
    missing_token: 'Please sign in.',
    other_institution: 'This visit belongs to another institution. You can only see and act on your own.',
    wrong_role: 'Your role may not do this. Ask a colleague who may.',
    invalid_transition: 'This visit was already handled (double submission). Refresh the list.',
    visual_requires_presence: 'Visual confirmation needs the holder in person. For a proxy pickup use the prescription or eligibility certificate.',
    proxy_needs_document: 'The holder is absent, so visual confirmation is impossible. Offer one of: (1) bring the prescription or the eligibility certificate and check by its numbers; (2) the holder comes in and is checked by card; (3) hold the medicine until the holder can be checked.',
    not_found: 'Not found. Check the numbers.',
    no_photo: 'No photo came from the reader. Compare the photo printed on the card with the person.',
    photo_evicted: 'Too many photos were waiting, so this photo was dropped. Compare the photo printed on the card with the person, or ask them to place the card again.',
    register_before_switch: 'The card is not registered for insurance use. Ask the holder whether to register before switching.',
    pin_format: 'The PIN must be 4 digits.',
    pin_not_allowed_on_face_auth: 'A face-auth card has no PIN.',
    already_that_kind: 'The card is already of that kind.',
    already_registered: 'The card is already registered for insurance use.',
    invalid_check_digit: 'A check digit is wrong. Check the number.',
    invalid_format: 'The input has the wrong format.',
    document_expired: 'This document has expired (every health insurance card ended on 1 Dec 2025). Check an eligibility certificate or the card, or use the self-declaration form.',
    document_not_genuine: 'This document cannot be genuine (no health insurance card has been issued since 2 Dec 2024; an eligibility certificate is valid for at most 5 years).',
    notice_not_valid_alone: 'The notice of qualification alone proves nothing: check it with the card, or use an eligibility certificate or the self-declaration form.',
    number_b_format: "照合番号B is 14 digits (birth date in the era, 6; the expiry year, 4; the security code, 4). Nothing was sent to the card. Type it again from the card's face.",
    wrong_types: 'The input has the wrong format.',
    malformed_json: 'The request was malformed. Reload the page.',
    network: 'Cannot reach the server. Check the network; see the trouble guide if checks cannot be done.',
    unknown: 'Something went wrong. Try again; if it persists, call the administrator.',
  },
};

K.message = (err) => {
  const table = K.errors[K.lang()] || K.errors.ja;
  return table[err && err.code] || table.unknown;
};

// Calls the API. Answers the parsed body; throws {code, message, status} on an error.
// An ended session sends the person back to sign-in with the reason shown there.
K.api = async (method, path, body) => {
  const headers = {};
  const token = K.token();
  if (token) headers.authorization = 'Bearer ' + token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw { code: 'network', status: 0 };
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = Object.assign({ status: res.status }, (data && data.error) || { code: 'unknown' });
    if (res.status === 401 && path !== '/api/v1/sessions') {
      sessionStorage.setItem('kakunin.reason', err.code);
      sessionStorage.removeItem('kakunin.token');
      sessionStorage.removeItem('kakunin.staff');
      location.href = '/login';
    }
    throw err;
  }
  return data;
};

// Builds an element: h('p', {class: 'x'}, 'text', child).
K.h = (tag, attrs, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
};

K.notice = (el, kind, text) => {
  el.replaceChildren(K.h('div', { class: 'notice ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text));
};

// Runs `work` with `button` disabled, so a double click sends one request.
K.once = async (button, work) => {
  if (button.disabled) return;
  button.disabled = true;
  try { return await work(); } finally { button.disabled = false; }
};

// Requires a signed-in staff member; otherwise back to sign-in.
K.requireStaff = () => {
  const s = K.staff();
  if (!K.token() || !s) { location.href = '/login'; throw new Error('not signed in'); }
  return s;
};

K.signOut = async () => {
  try { await K.api('DELETE', '/api/v1/sessions/current'); } catch (e) { /* already ended */ }
  sessionStorage.removeItem('kakunin.token');
  sessionStorage.removeItem('kakunin.staff');
  location.href = '/login';
};

// Fills the header bar: title, who is signed in, language and sign-out buttons.
K.header = (title) => {
  const s = K.staff();
  const en = K.lang() === 'en';
  const bar = K.h('header', { class: 'bar' },
    K.h('h1', {}, title),
    s ? K.h('span', { 'data-testid': 'signed-in' }, s.name + K.paren(s.institution_code)) : null,
    K.h('button', { class: 'secondary', onclick: () => K.setLang(en ? 'ja' : 'en') }, en ? '日本語' : 'English'),
    s ? K.h('button', { class: 'secondary', onclick: K.signOut }, en ? 'Sign out' : 'ログアウト') : null);
  document.body.prepend(bar);
};

K.locale = () => (K.lang() === 'en' ? 'en-GB' : 'ja-JP');
K.datetime = (iso) => (iso ? new Date(iso).toLocaleString(K.locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }) : '');
// A parenthesis in the page's language: full width in Japanese, half width with a space in
// English.
K.paren = (text) => (K.lang() === 'en' ? ' (' + text + ')' : '（' + text + '）');
K.colon = () => (K.lang() === 'en' ? ': ' : '：');
// Insurance types as the eligibility record names them, in English for the English screens.
K.insuranceType = (t) => (K.lang() === 'en' ? ({
  '協会けんぽ': 'Japan Health Insurance Association (Kyokai Kenpo)', '健康保険組合': 'Health insurance society',
  '組合健保': 'Health insurance society', '組合管掌健康保険': 'Health insurance society', '共済組合': 'Mutual aid association', '国民健康保険': 'National Health Insurance',
  '国保': 'National Health Insurance', '後期高齢者医療': 'Late-stage elderly medical care', '後期高齢者': 'Late-stage elderly medical care',
}[t] || t) : t);
K.date = (iso) => iso ? String(iso).replace(/T.*/, '') : '';
// A date as reception reads it: the Japanese era first, the ISO date beside it
// (「昭和26年11月10日（1951-11-10）」; in English 「10 Nov 1951 (1951-11-10)」).
K.dateBoth = (iso) => {
  if (!iso) return '';
  const day = K.date(iso);
  const [y, m, d] = day.split('-').map(Number);
  const at = new Date(Date.UTC(y, m - 1, d));
  if (Number.isNaN(at.getTime())) return day;
  const local = K.lang() === 'en'
    ? at.toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' })
    : at.toLocaleDateString('ja-JP-u-ca-japanese', { timeZone: 'UTC', era: 'long', year: 'numeric', month: 'long', day: 'numeric' }).replace(/^(\S{2})1年/, '$1元年');
  return local + K.paren(day);
};
K.time = (iso) => iso ? new Date(iso).toLocaleTimeString(K.locale(), { hour: '2-digit', minute: '2-digit' }) : '';
