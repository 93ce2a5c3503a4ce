/* fundtrail passkeys (docs/passkeys.md). The only script of the site, loaded only by the two
 * passkey pages (web/views/passkeys.py and web/confirm.py; the CSP allows 'self' scripts on them alone).
 *
 * Registration page (form#passkey-register): navigator.credentials.create with the server's
 * options (py_webauthn's JSON in script#passkey-options), then one navigator.credentials.get
 * with the new credential over SHA-256(enrolment statement + key id): the proof of possession.
 * Confirmation page (form#passkey-confirm): navigator.credentials.get over the intent's
 * challenge. Each posts the results as JSON in hidden fields of its form (which carries the
 * CSRF token); the server verifies everything.
 */
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function assertionJSON(cred) {
    var r = cred.response;
    return JSON.stringify({
      id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
      clientExtensionResults: {},
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      }
    });
  }

  function status(form, text) {
    var out = form.querySelector(".passkey-status");
    if (out) { out.textContent = text; }
  }

  function get(challenge, rpId, ids) {
    return navigator.credentials.get({publicKey: {
      challenge: challenge, rpId: rpId, userVerification: "required", timeout: 120000,
      allowCredentials: ids.map(function (id) {
        return {type: "public-key", id: typeof id === "string" ? fromB64url(id) : id};
      })
    }});
  }

  function register(form) {
    var o = JSON.parse(document.getElementById("passkey-options").textContent);
    var publicKey = {
      rp: o.rp, user: {id: fromB64url(o.user.id), name: o.user.name,
                       displayName: o.user.displayName},
      challenge: fromB64url(o.challenge), pubKeyCredParams: o.pubKeyCredParams,
      timeout: o.timeout, attestation: o.attestation,
      authenticatorSelection: o.authenticatorSelection,
      excludeCredentials: (o.excludeCredentials || []).map(function (c) {
        return {type: c.type, id: fromB64url(c.id)};
      })
    };
    var created;
    status(form, form.dataset.working);
    navigator.credentials.create({publicKey: publicKey}).then(function (cred) {
      created = cred;
      var statement = form.dataset.statement + "webauthn:" + toB64url(cred.rawId) + "\n";
      return crypto.subtle.digest("SHA-256", new TextEncoder().encode(statement));
    }).then(function (digest) {
      return get(digest, o.rp.id, [created.rawId]);
    }).then(function (proof) {
      var r = created.response;
      form.elements.registration.value = JSON.stringify({
        id: created.id, rawId: toB64url(created.rawId), type: created.type,
        clientExtensionResults: {},
        response: {clientDataJSON: toB64url(r.clientDataJSON),
                   attestationObject: toB64url(r.attestationObject),
                   transports: r.getTransports ? r.getTransports() : []}
      });
      form.elements.proof.value = assertionJSON(proof);
      form.submit();
    }).catch(function (err) { status(form, form.dataset.failed + " (" + err.name + ")"); });
  }

  function confirm(form) {
    var ids = JSON.parse(form.dataset.credentials);
    status(form, form.dataset.working);
    get(fromB64url(form.dataset.challenge), form.dataset.rpId, ids).then(function (a) {
      form.elements.passkey_assertion.value = assertionJSON(a);
      form.submit();
    }).catch(function (err) { status(form, form.dataset.failed + " (" + err.name + ")"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pairs = [["passkey-register", register], ["passkey-confirm", confirm]];
    pairs.forEach(function (pair) {
      var form = document.getElementById(pair[0]);
      if (!form) { return; }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        pair[1](form);
      });
    });
  });
}());
