package codec

// G.711 µ-law (PCMU) and A-law (PCMA) with lookup tables: one table read per
// sample each way. The tables are built once at start-up from the ITU-T
// G.191 reference algorithm (one's complement for negative input, so that -1
// encodes like 0 rather than like -4) and are never written afterwards.

// Encoding names as they appear in SDP.
const (
	NamePCMU = "PCMU"
	NamePCMA = "PCMA"
)

var (
	// ulawEnc is indexed by the 14 most significant bits of the sample: the
	// G.191 µ-law quantiser depends on nothing else.
	ulawEnc = buildULawEncode()
	// alawEnc is indexed by the 12 most significant bits of the sample.
	alawEnc = buildALawEncode()
	ulawDec = buildULawDecode()
	alawDec = buildALawDecode()
)

func buildULawEncode() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		t[i] = ulawCompress(int16(uint16(i) << 2))
	}
	return &t
}

func buildALawEncode() *[1 << 12]byte {
	var t [1 << 12]byte
	for i := range t {
		t[i] = alawCompress(int16(uint16(i) << 4))
	}
	return &t
}

func buildULawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = ulawExpand(byte(i))
	}
	return &t
}

func buildALawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = alawExpand(byte(i))
	}
	return &t
}

// ulawCompress is the G.191 µ-law quantiser for one 16-bit sample.
func ulawCompress(x int16) byte {
	var mag int32
	if x < 0 {
		mag = int32(^x) >> 2
	} else {
		mag = int32(x) >> 2
	}
	mag += 33 // bias: makes the segment boundaries powers of two
	if mag > 0x1FFF {
		mag = 0x1FFF
	}
	seg := 1
	for i := mag >> 6; i != 0; i >>= 1 {
		seg++
	}
	code := byte(8-seg)<<4 | byte(0x0F-((mag>>seg)&0x0F))
	if x >= 0 {
		code |= 0x80
	}
	return code
}

// ulawExpand is the G.191 µ-law reconstruction of one code word.
func ulawExpand(code byte) int16 {
	m := ^code
	exp := int32(m>>4) & 7
	mant := int32(m) & 0x0F
	step := int32(4) << (exp + 1)
	v := (0x80 << exp) + step*mant + step/2 - 4*33
	if code < 0x80 {
		v = -v
	}
	return int16(v)
}

// alawCompress is the G.191 A-law quantiser for one 16-bit sample.
func alawCompress(x int16) byte {
	var ix int32
	if x < 0 {
		ix = int32(^x) >> 4
	} else {
		ix = int32(x) >> 4
	}
	if ix > 15 {
		exp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55 // even bits inverted, as transmitted
}

// alawExpand is the G.191 A-law reconstruction of one code word.
func alawExpand(code byte) int16 {
	ix := int32(code^0x55) & 0x7F
	exp := ix >> 4
	mant := ix & 0x0F
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if code > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// ULawEncode returns the µ-law code word for one sample.
func ULawEncode(s int16) byte { return ulawEnc[uint16(s)>>2] }

// ULawDecode returns the linear sample for one µ-law code word.
func ULawDecode(b byte) int16 { return ulawDec[b] }

// ALawEncode returns the A-law code word for one sample.
func ALawEncode(s int16) byte { return alawEnc[uint16(s)>>4] }

// ALawDecode returns the linear sample for one A-law code word.
func ALawDecode(b byte) int16 { return alawDec[b] }

// EncodeULaw writes one µ-law byte per sample of pcm into dst, which must be
// at least len(pcm) long, and returns len(pcm).
func EncodeULaw(dst []byte, pcm []int16) int {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		dst[i] = ulawEnc[uint16(s)>>2]
	}
	return len(pcm)
}

// DecodeULaw writes one sample per µ-law byte of src into dst, which must be
// at least len(src) long, and returns len(src).
func DecodeULaw(dst []int16, src []byte) int {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = ulawDec[b]
	}
	return len(src)
}

// EncodeALaw is EncodeULaw for A-law.
func EncodeALaw(dst []byte, pcm []int16) int {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		dst[i] = alawEnc[uint16(s)>>4]
	}
	return len(pcm)
}

// DecodeALaw is DecodeULaw for A-law.
func DecodeALaw(dst []int16, src []byte) int {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = alawDec[b]
	}
	return len(src)
}

// PCMUCodec is the codec G.711 µ-law, and also its Encoder and Decoder: it
// keeps no state, so one value serves any number of streams.
type PCMUCodec struct{}

// Encode implements Encoder.
func (PCMUCodec) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < len(pcm) {
		return 0, shortBuffer(NamePCMU, len(pcm), len(dst))
	}
	return EncodeULaw(dst, pcm), nil
}

// Decode implements Decoder.
func (PCMUCodec) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < len(payload) {
		return 0, shortBuffer(NamePCMU, len(payload), len(dst))
	}
	return DecodeULaw(dst, payload), nil
}

func (PCMUCodec) String() string { return NamePCMU }

// PCMACodec is the codec G.711 A-law, and also its Encoder and Decoder.
type PCMACodec struct{}

// Encode implements Encoder.
func (PCMACodec) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < len(pcm) {
		return 0, shortBuffer(NamePCMA, len(pcm), len(dst))
	}
	return EncodeALaw(dst, pcm), nil
}

// Decode implements Decoder.
func (PCMACodec) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < len(payload) {
		return 0, shortBuffer(NamePCMA, len(payload), len(dst))
	}
	return DecodeALaw(dst, payload), nil
}

func (PCMACodec) String() string { return NamePCMA }

// PCMU is the description of G.711 µ-law: static payload type 0, 8 kHz.
func PCMU() Codec {
	return Codec{Name: NamePCMU, PayloadType: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: DefaultPtime}
}

// PCMA is the description of G.711 A-law: static payload type 8, 8 kHz.
func PCMA() Codec {
	return Codec{Name: NamePCMA, PayloadType: 8, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: DefaultPtime}
}
