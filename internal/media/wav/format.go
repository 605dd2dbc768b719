package wav

import (
	"errors"
	"fmt"
)

// Format tags of the fmt chunk.
const (
	FormatPCM        uint16 = 1
	FormatIEEEFloat  uint16 = 3
	FormatALaw       uint16 = 6
	FormatMuLaw      uint16 = 7
	FormatExtensible uint16 = 0xFFFE
)

// Errors returned by Read and the writers; the returned errors wrap them
// with the detail.
var (
	// ErrNotWAV means the input is not a RIFF/WAVE file at all.
	ErrNotWAV = errors.New("wav: not a RIFF/WAVE file")
	// ErrTruncated means the input ended inside a header or inside the
	// declared audio data.
	ErrTruncated = errors.New("wav: truncated")
	// ErrCorrupt means the structure is inconsistent: a missing or
	// malformed fmt chunk, no data chunk, zero channels or rate.
	ErrCorrupt = errors.New("wav: corrupt")
	// ErrUnsupported means a well-formed file in an encoding this package
	// does not decode (ADPCM, MP3 in WAV, 12-bit PCM, many channels).
	ErrUnsupported = errors.New("wav: unsupported encoding")
	// ErrTooLarge means the audio exceeds the caller's limits, or a file
	// being written would exceed the format's 4 GiB.
	ErrTooLarge = errors.New("wav: too large")
)

func formatName(tag uint16) string {
	switch tag {
	case FormatPCM:
		return "PCM"
	case FormatIEEEFloat:
		return "float"
	case FormatALaw:
		return "A-law"
	case FormatMuLaw:
		return "µ-law"
	case FormatExtensible:
		return "extensible"
	}
	return fmt.Sprintf("format 0x%04x", tag)
}

// extensibleSuffix is the fixed tail of the KSDATAFORMAT_SUBTYPE GUIDs
// whose first two bytes are a classic format tag.
var extensibleSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// MaxChannels is the most channels Read accepts.
const MaxChannels = 8
