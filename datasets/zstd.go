package datasets

import (
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdWindow is the largest distance zstd looks back for a match when
// parts are written. A Parquet page is compressed on its own and is at
// most about 1 MiB (arrow-go's default data page size), so a longer
// window finds nothing more: it only costs memory.
const zstdWindow = 1 << 20

// pageCodec is the zstd codec of the parts this package writes: arrow-go's
// own (klauspost/compress) for everything, except that pages are
// compressed by encoders with a 1 MiB window instead of the library's
// 8 MiB. Each encoder arrow-go pools keeps a history buffer of twice its
// window: 16 MiB of a scan's heap (a fifth of its live heap on a
// 200,000-domain DNS-only scan, profiled with --memprofile) for nothing,
// since no page is longer than the window. The frames are ordinary zstd
// frames: any reader decodes them. Level and the other options are
// arrow-go's.
type pageCodec struct {
	compress.Codec
}

var pageEncoders = sync.Pool{New: func() any {
	enc, err := zstd.NewWriter(nil,
		zstd.WithZeroFrames(true),
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(1),
		zstd.WithAllLitEntropyCompression(true),
		zstd.WithWindowSize(zstdWindow),
	)
	if err != nil {
		// Only invalid options fail, and these are constant.
		panic("datasets: zstd encoder: " + err.Error())
	}
	return enc
}}

func (pageCodec) Encode(dst, src []byte) []byte {
	enc := pageEncoders.Get().(*zstd.Encoder)
	defer pageEncoders.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

// EncodeLevel ignores level: the writer never sets one (it compresses at
// arrow-go's default, zstd's SpeedDefault).
func (c pageCodec) EncodeLevel(dst, src []byte, _ int) []byte { return c.Encode(dst, src) }

func init() {
	arrow, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic("datasets: arrow-go has no zstd codec: " + err.Error())
	}
	compress.RegisterCodec(compress.Codecs.Zstd, pageCodec{arrow})
}
