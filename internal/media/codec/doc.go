// Package codec describes RTP audio codecs and implements their encoders and
// decoders for the media engine: G.711 µ-law and A-law (PCMU, PCMA), L16,
// G.722 and Opus.
//
// A Codec is a plain description of one payload format as SDP negotiates it
// (name, payload type, RTP clock rate, channels, ptime, fmtp) plus the PCM
// rate the engine feeds it. Encoders and decoders work on caller-provided
// buffers and return the count written, so the per-packet path allocates
// nothing; each stateful one (G.722, Opus) belongs to one stream. A Registry
// lists the codecs in preference order, builds encoders and decoders for a
// negotiated codec, and picks the first codec of a preference list that a
// peer offered.
//
// G.711 uses tables built at start-up from the ITU-T G.191 reference
// algorithm: one table read per sample each way.
//
// G.722 is written here from ITU-T Recommendation G.722 (QMF analysis and
// synthesis, 6-bit lower-band and 2-bit upper-band ADPCM), 64 kbit/s mode.
// No maintained pure-Go G.722 module was available from the Go module proxy,
// and the codec is a few hundred lines of fixed-point arithmetic; a test
// checks it bit for bit against ffmpeg's implementation on a committed
// fixture, which is what interoperability with phones needs.
//
// Opus uses github.com/thesyncim/gopus, a pure-Go Opus (RFC 6716)
// implementation whose authors check it against libopus 1.6.1 and the
// RFC 8251 test vectors; it takes caller-owned buffers and allocates nothing
// per packet once warmed up (TestCodecsDoNotAllocate holds it to that). Ringo
// ships as one static binary, so a pure-Go codec is preferred over a cgo
// binding of libopus: no C toolchain, no libopus-dev, and it cross-compiles
// as the rest does. The cost is CPU: an Opus encode of 20 ms at 48 kHz takes
// a few hundred microseconds (BenchmarkOpusEncode20ms48k) against well under
// a microsecond for G.711, which matters only for transcoded Opus legs. A
// cgo libopus encoder could later sit behind a build tag with the same
// Encoder interface if Opus transcoding becomes the bottleneck.
package codec
