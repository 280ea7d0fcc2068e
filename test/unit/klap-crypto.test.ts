// KLAP cryptography against vectors computed independently (Python hashlib for the hashes, the openssl CLI for AES-128-CBC).
import assert from "node:assert/strict";
import { authHash, handshake1Proof, handshake2Proof, KlapSession } from "../../lib/transports/klap-crypto";

const local = Buffer.from([...Array(16).keys()]);
const remote = Buffer.from([...Array(16).keys()].map((i) => i + 16));
const hex = (b: Buffer): string => b.toString("hex");

describe("KLAP crypto (known vectors)", function () {
  it("auth hash v1 = md5(md5(user) ‖ md5(pass)) and v2 = sha256(sha1(user) ‖ sha1(pass))", function () {
    assert.equal(hex(authHash(1, "user@example.com", "secret")), "9d6ce791ce44316e9e52fc1bc9d36496");
    assert.equal(hex(authHash(2, "user@example.com", "secret")), "b039216532fc844e9ae0cc8fe3ea911c9ba09c641bb96a3e1f776d93f7b5ae9b");
    assert.equal(hex(authHash(1, "", "")), "5873dd45edd01f09c1ef2e7819369e8e");
  });

  it("handshake proofs of both generations", function () {
    const v1 = authHash(1, "user@example.com", "secret");
    const v2 = authHash(2, "user@example.com", "secret");
    assert.equal(hex(handshake1Proof(1, local, remote, v1)), "c2d456076f946c707000874d2e226a1c09e89a21e459272b8ec0f01cdaf774cf");
    assert.equal(hex(handshake2Proof(1, local, remote, v1)), "50ef3325d42cd7c999aa9e47e8cb0f8a7f6f239f1d51b39d46d581a4bb75c8c5");
    assert.equal(hex(handshake1Proof(2, local, remote, v2)), "8ed3b905e654fbee23900d0244156a33029c025b71b03bfcc601eff33aaebb70");
    assert.equal(hex(handshake2Proof(2, local, remote, v2)), "1e590e7a4dc128da48ed17e06fe23ddb6ec646bb6da2eb00708d590f194201d7");
  });

  it("session key, IV prefix, starting seq, ciphertext and signature", function () {
    const s = new KlapSession(local, remote, authHash(2, "user@example.com", "secret"));
    assert.equal(hex(s.key), "35dcf29cd535ce140a239c67f641d395");
    assert.equal(hex(s.ivPrefix), "863e09a70667472d3fa152a4");
    assert.equal(s.seq, -903964344);
    const { seq, body } = s.encryptRequest('{"method":"get_device_info"}');
    assert.equal(seq, -903964343);
    assert.equal(hex(body.subarray(32)), "1119b459358000bec16c976ef226a249c491bf18064c9319a51d85792116a683");
    assert.equal(hex(body.subarray(0, 32)), "81da24b0a1db4c9ec2fd895b347d416921d7f7a822457b501a52072e5f9acebf");
    assert.equal(s.decryptResponse(body, seq), '{"method":"get_device_info"}');
  });

  it("rejects short, misaligned, wrongly signed and badly padded messages with PROTOCOL_ERROR", function () {
    const s = new KlapSession(local, remote, authHash(1, "a", "b"));
    const sealed = s.seal("hello", 7);
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        return (err as { code: string }).code;
      }
      return "none";
    };
    assert.equal(
      code(() => s.open(sealed.subarray(0, 40), 7)),
      "PROTOCOL_ERROR",
    );
    assert.equal(
      code(() => s.open(sealed.subarray(0, sealed.length - 3), 7)),
      "PROTOCOL_ERROR",
    );
    assert.equal(
      code(() => s.open(sealed, 8)),
      "PROTOCOL_ERROR",
    );
    const tampered = Buffer.from(sealed);
    tampered.writeUInt8(tampered.readUInt8(40) ^ 1, 40);
    assert.equal(
      code(() => s.open(tampered, 7)),
      "PROTOCOL_ERROR",
    );
    // Unverified, the wrong-IV message still fails cleanly (bad padding) or yields other bytes, never a crash.
    assert.equal(s.open(sealed, 7).toString(), "hello");
  });
});
