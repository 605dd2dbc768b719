// Package dsp holds the media engine's per-frame signal processing on 16-bit
// PCM: a streaming polyphase resampler, Goertzel filters and a DTMF
// detector, a tone generator for call-progress and DTMF tones, a conference
// mixer core, and a level meter with a silence detector.
//
// Every per-frame method works on caller-provided buffers and allocates
// nothing once its value is built; each value keeps its own state and is
// used by one goroutine at a time. Levels are given in dBm0 where telephony
// specifies them that way, with 0 dBm0 as a sine of peak 22,630 (G.711's
// digital milliwatt scaled to 16 bits), and in dBFS otherwise.
package dsp
