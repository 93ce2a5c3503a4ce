// Checks a printed notice's proof in the visitor's browser (the page /v, web/views/verify.py).
//
// The QR's link is <public URL>/v#<percent-encoded Base45 of the compact tlog proof>
// (ledger/audit/tlog/proofs.py). The fragment never reaches the server. This script:
//   1. decodes it (RFC 3986 percent-decoding, RFC 9285 Base45, the compact proof format);
//   2. reads the published policy (/policy.txt, C2SP tlog-policy): the log key, the witnesses'
//      keys, the groups and the quorum;
//   3. verifies the checkpoint's signed note (C2SP signed-note, Ed25519) and cosignatures
//      (C2SP tlog-cosignature, cosignature/v1) and that the witnesses who cosigned meet the
//      quorum, as ledger/audit/tlog/policy.py does;
//   4. verifies the inclusion proof of the entry (RFC 9162) against the checkpoint's root;
//   5. reads the notice from the entry (canonical CBOR, ledger/audit/entries.py) and asks the
//      server for the notice's rows as its database gives them now (/v/rows/N.json), whose
//      SHA-256 must equal the rows digest the signed entry commits to.
// Ed25519 and SHA-2 come from noble-ed25519 and noble-hashes, served from /static/vendor/:
// no Web Crypto, which a phone on plain http (no secure context) does not have.
import * as ed from "./vendor/noble-ed25519/index.js";
import { sha256, sha512 } from "./vendor/noble-hashes/sha2.js";

ed.hashes.sha512 = sha512;

const root = document.getElementById("check");
const T = JSON.parse(document.getElementById("check-text").textContent);
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

class CheckError extends Error {
  constructor(code, detail) { super(detail || code); this.code = code; }
}

// ------------------------------------------------------------------ bytes

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
function b64encode(bytes) {
  let s = "";
  for (const x of bytes) s += String.fromCharCode(x);
  return btoa(s);
}
function b64decodeStrict(text) {   // canonical standard base64 only, as note.py
  let raw;
  try { raw = atob(text); } catch { throw new CheckError("bad_format", "base64"); }
  const out = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  if (out.length === 0 || b64encode(out) !== text) throw new CheckError("bad_format", "base64");
  return out;
}

// ------------------------------------------------------------------ Base45 (RFC 9285)

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
function base45Decode(text) {
  if (text.length % 3 === 1) throw new CheckError("bad_format", "base45 length");
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3);
    let n = 0;
    for (let k = chunk.length - 1; k >= 0; k--) {
      const d = B45.indexOf(chunk[k]);
      if (d < 0) throw new CheckError("bad_format", "base45 character");
      n = n * 45 + d;
    }
    if (chunk.length === 3) {
      if (n > 0xffff) throw new CheckError("bad_format", "base45 group");
      out.push(n >> 8, n & 0xff);
    } else {
      if (n > 0xff) throw new CheckError("bad_format", "base45 group");
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}

// What the QR (or a pasted text) carries: the fragment of a link, the `p` of an older
// /verify?p= link, or the Base45 itself.
function payloadOf(text) {
  text = text.trim();
  if (text.includes("#")) text = text.slice(text.indexOf("#") + 1);
  else if (/[?&]p=/.test(text)) text = new URL(text, location.href).searchParams.get("p") || "";
  try { return decodeURIComponent(text.trim()); } catch { throw new CheckError("bad_format", "percent"); }
}

// ------------------------------------------------------------------ compact proof (proofs.py)

class Reader {
  constructor(data) { this.data = data; this.pos = 0; }
  take(n) {
    if (this.pos + n > this.data.length) throw new CheckError("bad_format", "truncated");
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  uvarint() {
    let value = 0n, shift = 0n, byte;
    for (;;) {
      byte = this.take(1)[0];
      value |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (!(byte & 0x80)) break;
      if (shift >= 70n) throw new CheckError("bad_format", "varint");
    }
    if (value > 0xffffffffffffffffn || (shift > 7n && byte === 0)) throw new CheckError("bad_format", "varint");
    return value;
  }
  count(limit) {
    const n = this.uvarint();
    if (n > BigInt(limit)) throw new CheckError("bad_format", "count");
    return Number(n);
  }
  blob() { return this.take(Number(this.uvarint())); }
  text() {
    try { return fromUtf8.decode(this.blob()); } catch (e) {
      if (e instanceof CheckError) throw e;
      throw new CheckError("bad_format", "utf-8");
    }
  }
}

function decodeCompact(data) {
  const r = new Reader(data);
  if (!equal(r.take(4), utf8.encode("tlp\x01"))) throw new CheckError("bad_format", "magic");
  const flags = r.take(1)[0];
  if (flags & ~1) throw new CheckError("bad_format", "flags");
  const index = r.uvarint();
  const path = [];
  for (let i = 0, n = r.count(64); i < n; i++) path.push(r.take(32));
  const extra = flags & 1 ? r.blob() : null;
  const origin = r.text();
  const size = r.uvarint();
  const rootHash = r.take(32);
  const extensions = [];
  for (let i = 0, n = r.count(16); i < n; i++) extensions.push(r.text());
  const signatures = [];
  for (let i = 0, n = r.count(64); i < n; i++) {
    const name = r.text() || origin;
    const keyId = r.take(4);
    signatures.push({ name, keyId, sig: r.blob() });
  }
  if (r.pos !== data.length) throw new CheckError("bad_format", "trailing bytes");
  if (!origin || [origin, ...extensions].some((l) => /[\x00-\x1f]/.test(l) || !l))
    throw new CheckError("bad_format", "checkpoint line");
  const body = [origin, size.toString(), b64encode(rootHash), ...extensions].map((l) => l + "\n").join("");
  return { index, path, extra, origin, size, rootHash, body, signatures };
}

// ------------------------------------------------------------------ policy (policy.py)

function parseVkey(vkey, type) {
  const parts = vkey.split("+");
  if (parts.length < 3) throw new CheckError("bad_policy", "vkey");
  const name = parts[0], kid = parts[1], material = b64decodeStrict(parts.slice(2).join("+"));
  if (material.length !== 33 || material[0] !== type || !/^[0-9a-f]{8}$/.test(kid))
    throw new CheckError("bad_policy", "vkey material");
  const pub = material.subarray(1);
  const id = sha256(concat(utf8.encode(name + "\n"), Uint8Array.of(type), pub)).subarray(0, 4);
  if (hex(id) !== kid) throw new CheckError("bad_policy", "key id");
  return { name, keyId: id, pub, type, vkey };
}

// The fingerprint printed beside the QR (Policy.keys_fingerprint): SHA-256 of the keys as
// /keys.txt lists them, `log <vkey>` then `witness <name> <vkey>`, first 16 hex digits.
function keysFingerprint(policy) {
  const lines = policy.logs.map((v) => `log ${v.vkey}\n`).concat(
    [...policy.witnesses.values()].map((w) => `witness ${w.policyName} ${w.vkey}\n`));
  return hex(sha256(utf8.encode(lines.join("")))).slice(0, 16).match(/.{4}/g).join("-");
}

function parsePolicy(text) {
  const policy = { logs: [], witnesses: new Map(), groups: new Map(), quorum: null };
  for (const line of text.split("\n")) {
    const fields = line.split(/[ \t]+/).filter(Boolean);
    if (!fields.length || fields[0].startsWith("#")) continue;
    const [word, ...args] = fields;
    if (word === "log") policy.logs.push(parseVkey(args[0], 0x01));
    else if (word === "witness") policy.witnesses.set(args[0], { policyName: args[0], ...parseVkey(args[1], 0x04) });
    else if (word === "group") {
      const members = args.slice(2);
      const k = args[1] === "all" ? members.length : args[1] === "any" ? 1 : Number(args[1]);
      if (!(k >= 1 && k <= members.length)) throw new CheckError("bad_policy", "threshold");
      for (const m of members)
        if (!policy.witnesses.has(m) && !policy.groups.has(m)) throw new CheckError("bad_policy", "member");
      policy.groups.set(args[0], { k, members });
    } else if (word === "quorum") {
      if (policy.quorum !== null) throw new CheckError("bad_policy", "quorum twice");
      policy.quorum = args[0];
    } else throw new CheckError("bad_policy", "keyword " + word);
  }
  if (policy.quorum === null) throw new CheckError("bad_policy", "no quorum");
  return policy;
}

function satisfied(policy, name, present) {
  if (policy.witnesses.has(name)) return present.has(name);
  const group = policy.groups.get(name);
  if (!group) return false;
  return group.members.filter((m) => satisfied(policy, m, present)).length >= group.k;
}

// ------------------------------------------------------------------ signatures (note.py, checkpoint.py)

function edVerify(sig, message, pub) {   // RFC 8032 strictly, as the server's cryptography
  try { return ed.verify(sig, message, pub, { zip215: false }); } catch { return false; }
}

function verifyCheckpoint(proof, policy) {
  const message = utf8.encode(proof.body);
  const known = new Map();
  for (const v of policy.logs) known.set(v.name + "+" + hex(v.keyId), v);
  for (const w of policy.witnesses.values()) known.set(w.name + "+" + hex(w.keyId), w);
  const seen = new Set();
  const logSigs = [], cosigs = [];
  for (const s of proof.signatures) {
    const key = s.name + "+" + hex(s.keyId);
    const v = known.get(key);
    if (!v) continue;   // an unknown key's signature is ignored, as open_note does
    if (seen.has(key)) throw new CheckError("bad_format", "a key signed twice");
    seen.add(key);
    if (v.type === 0x01) {
      if (s.sig.length !== 64 || !edVerify(s.sig, message, v.pub))
        throw new CheckError("bad_log_sig");
      if (v.name === proof.origin) logSigs.push(v);
    } else {
      if (s.sig.length !== 72) throw new CheckError("bad_cosig");
      let t = 0n;
      for (const x of s.sig.subarray(0, 8)) t = (t << 8n) | BigInt(x);
      if (t > 0x7fffffffffffffffn) throw new CheckError("bad_cosig");
      const signed = utf8.encode(`cosignature/v1\ntime ${t}\n${proof.body}`);
      if (!edVerify(s.sig.subarray(8), signed, v.pub))
        throw new CheckError("bad_cosig", v.policyName);
      cosigs.push({ witness: v.policyName, keyName: v.name, time: Number(t) });
    }
  }
  if (!logSigs.length) throw new CheckError("no_log_sig");
  const present = new Set(cosigs.map((c) => c.witness));
  if (policy.quorum !== "none" && !satisfied(policy, policy.quorum, present))
    throw new CheckError("quorum", [...present].join(", "));
  return { logKey: logSigs[0], cosigs };
}

// ------------------------------------------------------------------ inclusion (merkle.py, RFC 9162 2.1.3.2)

const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

function verifyInclusion(leaf, index, size, path, rootHash) {
  if (index >= size) throw new CheckError("not_in_log", "index");
  let fn = index, sn = size - 1n, r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new CheckError("not_in_log", "proof too long");
    if ((fn & 1n) || fn === sn) {
      r = nodeHash(p, r);
      while (!(fn & 1n) && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n || !equal(r, rootHash)) throw new CheckError("not_in_log");
}

// ------------------------------------------------------------------ the entry (canonical CBOR, entries.py)

function cborDecode(data) {
  const r = new Reader(data);
  function length(info) {
    if (info < 24) return BigInt(info);
    const n = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!n) throw new CheckError("bad_format", "cbor length");
    let v = 0n;
    for (const x of r.take(n)) v = (v << 8n) | BigInt(x);
    return v;
  }
  const small = (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  function item() {
    const head = r.take(1)[0], major = head >> 5, info = head & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new CheckError("bad_format", "cbor simple");
    }
    const n = length(info);
    switch (major) {
      case 0: return small(n);
      case 1: return small(-1n - n);
      case 2: return r.take(Number(n));
      case 3: try { return fromUtf8.decode(r.take(Number(n))); } catch { throw new CheckError("bad_format", "cbor text"); }
      case 4: return Array.from({ length: Number(n) }, item);
      case 5: {
        const out = {};
        for (let i = 0; i < Number(n); i++) { const k = item(); out[k] = item(); }
        return out;
      }
      default: throw new CheckError("bad_format", "cbor tag");
    }
  }
  const value = item();
  if (r.pos !== data.length) throw new CheckError("bad_format", "cbor trailing");
  return value;
}

function noticeOf(entryBytes, index) {
  const e = cborDecode(entryBytes);
  if (!Array.isArray(e) || e.length < 9 || e[0] !== 1) throw new CheckError("bad_format", "entry");
  const [, origin, entryIndex, , timeUs, actor, kind, rows] = e;
  if (BigInt(entryIndex) !== index) throw new CheckError("bad_format", "entry index");
  if (kind !== "notice.publish") throw new CheckError("not_notice", kind);
  const images = rows.filter((row) => row[0] === "notices").map((row) => row[4]);
  if (images.length !== 1) throw new CheckError("not_notice", "rows");
  return { origin, time: Number(BigInt(timeUs) / 1000000n), actor, notice: images[0] };
}

// ------------------------------------------------------------------ showing it

const $ = (id) => document.getElementById(id);
// Chinese punctuation on the Chinese page, Latin on the English one (the page's lang).
const EN = document.documentElement.lang === "en";
const COLON = EN ? ": " : "：";
const paren = (text) => (EN ? ` (${text})` : `（${text}）`);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function beijing(seconds) {   // UTC+8 all year: China keeps no summer time
  const d = new Date((seconds + 8 * 3600) * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
         `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}` + paren(T.beijing);
}

function verdict(state, word, why, rowsText) {
  const box = $("verdict");
  box.dataset.state = state;
  $("verdict-word").textContent = word;
  $("verdict-why").textContent = why || "";
  $("verdict-rows").textContent = rowsText || "";
}

function clearNotice() {
  for (const id of ["notice", "signers", "details"]) $(id).hidden = true;
  for (const id of ["notice-fields", "notice-tables", "signer-list", "detail-list"]) $(id).replaceChildren();
}

const NUMERIC = /^[-+]?[\d,]+(\.\d+)?$/;

function showContent(content, printed) {
  $("notice-title").textContent = content.title;
  $("notice-source").textContent = printed ? T.rows_printed : T.rows_server;
  $("notice").classList.toggle("mismatch", !printed);
  const fields = $("notice-fields");
  for (const [label, value] of content.fields) {
    const total = label.includes("合计") ? { class: "total" } : {};   // the printed total (大写 too)
    fields.append(el("dt", total, label), el("dd", total, value));
  }
  for (const table of content.tables) {
    const head = el("tr", {}, ...table.header.map((h) => el("th", { scope: "col" }, h)));
    const body = table.rows.map((row) => el("tr", {}, ...row.map((cell, i) =>
      el("td", { "data-label": table.header[i] || "", class: NUMERIC.test(cell) ? "num" : "" }, cell))));
    $("notice-tables").append(el("h3", {}, table.heading),
      el("table", { class: "rows" }, el("thead", {}, head), el("tbody", {}, ...body)));
  }
  $("notice").hidden = false;
}

function showSigners(entry, signed, proof) {
  const list = $("signer-list");
  list.append(el("li", {}, el("strong", {}, T.published_by + COLON), `${entry.actor} · ${beijing(entry.time)}`));
  list.append(el("li", {}, el("strong", {}, T.log_signed + COLON), signed.logKey.name));
  for (const c of signed.cosigs)
    list.append(el("li", {}, el("strong", {}, T.cosigned + COLON), c.witness + paren(c.keyName) + ` · ${beijing(c.time)}`));
  list.append(el("li", {}, el("strong", {}, T.keys_fp + COLON),
    el("span", { class: "mono", id: "keys-fingerprint" }, signed.fingerprint), paren(T.keys_fp_how)));
  $("signers").hidden = false;
  const n = entry.notice;
  const details = [
    [T.subject, n.subject], [T.display, `${n.display_from} ${T.to} ${n.display_to}`],
    [T.index, `${proof.index} / ${proof.size}`],
    [T.tree, proof.origin], [T.root, hex(proof.rootHash)], [T.digest, n.rows_digest],
  ];
  for (const [k, v] of details) $("detail-list").append(el("dt", {}, k), el("dd", { class: "mono" }, v));
  $("details").hidden = false;
}

// ------------------------------------------------------------------ the check

async function fetchText(url) {
  const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  return response;
}

async function check(text) {
  clearNotice();
  verdict("working", T.working);
  if (!text.trim() || text.trim() === "#") return verdict("none", T.scan, T.no_proof);
  let proof, entry, signed;
  try {
    proof = decodeCompact(base45Decode(payloadOf(text)));
    if (!proof.extra) throw new CheckError("bad_format", "no entry");
    const response = await fetchText(root.dataset.policy);
    if (response.status === 404) throw new CheckError("no_policy");
    if (!response.ok) throw new CheckError("bad_policy", String(response.status));
    const policy = parsePolicy(await response.text());
    signed = verifyCheckpoint(proof, policy);
    signed.fingerprint = keysFingerprint(policy);
    verifyInclusion(leafHash(proof.extra), proof.index, proof.size, proof.path, proof.rootHash);
    entry = noticeOf(proof.extra, proof.index);
  } catch (e) {
    if (!(e instanceof CheckError)) { console.error(e); e = new CheckError("bad_format"); }
    console.info("check failed:", e.code, e.message);
    return verdict("fail", T.fail, T[e.code] || T.bad_format);
  }
  showSigners(entry, signed, proof);
  // The proof holds. Now the rows: the server's, as its database gives them now, must hash to
  // the digest the signed entry commits to.
  let response;
  try {
    response = await fetchText(root.dataset.rows + proof.index.toString() + ".json");
  } catch {
    return verdict("partial", T.proof_only, T.why_proof_only, T.rows_unavailable);
  }
  if (!response.ok)
    return verdict("partial", T.proof_only, T.why_proof_only,
                   response.status === 404 ? T.rows_missing : T.rows_unavailable);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const matches = hex(sha256(bytes)) === entry.notice.rows_digest;
  let content = null;
  try { content = JSON.parse(fromUtf8.decode(bytes)); } catch { /* shown as not matching */ }
  if (content) showContent(content, matches);
  if (matches) return verdict("pass", T.pass, T.why_pass, T.rows_match);
  return verdict("fail", T.fail, T.why_rows_differ, T.rows_differ);
}

// The language switch reloads this page through /lang/…?next=/v: a redirect without a fragment
// keeps the one of the link followed, so the link is given this page's fragment.
function keepFragmentOnLanguageSwitch() {
  for (const a of document.querySelectorAll("a[href*='/lang/']")) {
    const base = a.getAttribute("href").split("#")[0];
    a.setAttribute("href", base + location.hash);
  }
}

function run() {
  keepFragmentOnLanguageSwitch();
  check(location.hash.length > 1 ? location.hash : "").finally(() => { root.dataset.done = "1"; });
}

$("paste-go").addEventListener("click", () => {
  const text = $("paste-text").value;
  const payload = (() => { try { return payloadOf(text); } catch { return ""; } })();
  root.dataset.done = "";
  // The pasted proof becomes this page's fragment: the address can be kept or shared.
  history.replaceState(null, "", "#" + encodeURIComponent(payload).replace(/%24|%2A|%2B|%2F|%3A/g, decodeURIComponent));
  run();
});
window.addEventListener("hashchange", run);
run();
