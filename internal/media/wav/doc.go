// Package wav reads and writes RIFF/WAVE audio files: prompts to play and
// recordings to keep.
//
// Read decodes PCM (8, 16, 24 and 32-bit), IEEE float, µ-law and A-law, plain
// or as WAVE_FORMAT_EXTENSIBLE, to interleaved 16-bit PCM at the file's own
// rate; the player resamples and encodes from there. It skips chunks it does
// not need, honours odd-size padding, accepts the 0 and 0xFFFFFFFF data sizes
// of streamed and unfinished files (and RF64 headers) by reading to the end,
// and refuses anything beyond the caller's size and duration limits before
// allocating for it. Every malformed input yields an error wrapping one of
// the package's sentinel errors, never a panic.
//
// Writer streams a recording to a file, 16-bit PCM or G.711 at any rate,
// mono or stereo, and patches the header sizes on Close; until then the
// header carries the "unknown size" marker, so a recording cut short by a
// crash still reads. Buffer builds the same file in memory, and Encode
// writes one in a single call.
package wav
