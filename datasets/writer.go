package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Parquet key-value metadata keys written into every part.
const (
	MetaSchemaVersion = "danescan.schema_version"
	MetaTable         = "danescan.table"
)

// DefaultPartRows is the number of rows per part when WriterOptions.PartRows
// is zero.
const DefaultPartRows = 100000

// DefaultRowGroupRows is the number of rows per Parquet row group when
// WriterOptions.RowGroupRows is zero. The rows of the open row group are
// in Arrow builders until it is encoded, so they are the largest part of
// a scan's live heap that comes and goes, and the garbage collector lets
// the heap grow by as much again: a 200,000-domain DNS-only scan of
// world.sh peaked at 187 MiB with 10,000 rows, 168 MiB with 5,000 and
// 160 MiB with 4,000 (parts 2-7 % larger).
const DefaultRowGroupRows = 5000

// WriterOptions tunes a TableWriter. The zero value is ready to use.
type WriterOptions struct {
	// PartRows is the number of rows buffered before a part is written;
	// DefaultPartRows when zero or negative.
	PartRows int
	// RowGroupRows is the number of rows encoded at a time as one Parquet
	// row group of the open part; DefaultRowGroupRows when zero or
	// negative, at most PartRows. Encoding in small steps keeps the
	// owning goroutine responsive: it never stops for a whole part.
	RowGroupRows int
	// Metadata is extra Parquet key-value metadata written into every part
	// (for example "danescan.scan_id"). The keys MetaSchemaVersion and
	// MetaTable are reserved.
	Metadata map[string]string
	// Append accepts a table folder that already holds finished parts
	// (those of a dataset being resumed) and numbers the new parts after
	// the highest of them. Temporary part files are still refused.
	Append bool
}

// Part describes one Parquet file of a table, as listed in manifest.json.
type Part struct {
	Table string `json:"table"`
	// Path is relative to the dataset directory and slash-separated, e.g.
	// "domains/part-00000.parquet".
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex
}

// TableWriter appends rows of type T to one table of a dataset and writes
// them as zstd-compressed Parquet parts of at most PartRows rows. It is owned
// by one goroutine: it is not safe for concurrent use.
type TableWriter[T any] struct {
	dir      string // dataset directory
	tableDir string // dir/<table>
	plan     *plan
	opts     WriterOptions
	builder  *array.RecordBuilder
	appends  []func(row reflect.Value)
	rows     int // rows buffered in builder
	next     int // number of the next part
	parts    []Part
	closed   bool
	open     *openPart // the part being written, nil between parts
}

// openPart is a part file being written under its temporary name.
type openPart struct {
	name string // final file name
	tmp  string // temporary path
	f    *os.File
	sum  *digest // of the bytes written to f
	fw   *pqarrow.FileWriter
	rows int64
}

// NewTableWriter returns a writer for the named table of the dataset in
// datasetDir, creating datasetDir/table/. It returns an error when T is not
// the table's row type, when a reserved metadata key is given, when the
// folder cannot be created, or when it already holds parts (unless
// opts.Append): a dataset directory is written once. The caller must call
// Close.
func NewTableWriter[T any](datasetDir, table string, opts WriterOptions) (*TableWriter[T], error) {
	p, err := planFor[T](table)
	if err != nil {
		return nil, fmt.Errorf("new table writer: %w", err)
	}
	for k := range opts.Metadata {
		if k == MetaSchemaVersion || k == MetaTable {
			return nil, fmt.Errorf("new table writer for %s: metadata key %q is reserved", table, k)
		}
	}
	if opts.PartRows <= 0 {
		opts.PartRows = DefaultPartRows
	}
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	opts.RowGroupRows = min(opts.RowGroupRows, opts.PartRows)
	opts.Metadata = maps.Clone(opts.Metadata)
	tableDir := filepath.Join(datasetDir, table)
	if err := os.MkdirAll(tableDir, 0o755); err != nil {
		return nil, fmt.Errorf("new table writer: %w", err)
	}
	entries, err := os.ReadDir(tableDir)
	if err != nil {
		return nil, fmt.Errorf("new table writer: %w", err)
	}
	next := 0
	for _, e := range entries {
		if n, ok := partNumber(e.Name()); ok && opts.Append {
			next = max(next, n+1)
			continue
		}
		if isPartName(e.Name()) || isPartTempName(e.Name()) {
			return nil, fmt.Errorf("new table writer: %s already holds parts (%s); a dataset directory is written once, choose a new one", tableDir, e.Name())
		}
	}
	w := &TableWriter[T]{
		dir:      datasetDir,
		tableDir: tableDir,
		plan:     p,
		opts:     opts,
		builder:  array.NewRecordBuilder(memory.DefaultAllocator, p.schema),
		next:     next,
	}
	w.appends = make([]func(reflect.Value), len(p.columns))
	for i, c := range p.columns {
		w.appends[i] = appender(c, w.builder.Field(i))
	}
	return w, nil
}

// partName returns the file name of part n.
func partName(n int) string { return fmt.Sprintf("part-%05d.parquet", n) }

// isPartName reports whether name is the name of a finished part.
func isPartName(name string) bool {
	return strings.HasPrefix(name, "part-") && strings.HasSuffix(name, ".parquet")
}

// isPartTempName reports whether name is a part being written (or left
// behind by a crash).
func isPartTempName(name string) bool {
	return strings.HasPrefix(name, ".part-") && strings.HasSuffix(name, ".tmp")
}

// field returns the function that selects a column's value in a row.
func field(index []int) func(reflect.Value) reflect.Value {
	if len(index) == 1 {
		i := index[0]
		return func(v reflect.Value) reflect.Value { return v.Field(i) }
	}
	i, j := index[0], index[1]
	return func(v reflect.Value) reflect.Value { return v.Field(i).Field(j) }
}

// appender returns the function that appends a column's value of an
// addressable row to its builder. The builder type is asserted here, once.
func appender(c columnPlan, b array.Builder) func(reflect.Value) {
	get := field(c.index)
	switch c.kind {
	case kindString:
		sb := b.(*array.StringBuilder)
		return func(v reflect.Value) { sb.Append(get(v).String()) }
	case kindBool:
		bb := b.(*array.BooleanBuilder)
		return func(v reflect.Value) { bb.Append(get(v).Bool()) }
	case kindInt32:
		ib := b.(*array.Int32Builder)
		return func(v reflect.Value) { ib.Append(int32(get(v).Int())) }
	case kindInt64:
		ib := b.(*array.Int64Builder)
		return func(v reflect.Value) { ib.Append(get(v).Int()) }
	case kindInt64Ptr:
		ib := b.(*array.Int64Builder)
		return func(v reflect.Value) {
			f := get(v)
			if f.IsNil() {
				ib.AppendNull()
				return
			}
			ib.Append(f.Elem().Int())
		}
	case kindTime:
		tb := b.(*array.TimestampBuilder)
		return func(v reflect.Value) {
			t := get(v).Addr().Interface().(*time.Time)
			tb.Append(arrow.Timestamp(t.UnixMicro()))
		}
	case kindStrings:
		lb := b.(*array.ListBuilder)
		sb := lb.ValueBuilder().(*array.StringBuilder)
		return func(v reflect.Value) {
			lb.Append(true)
			vals := *get(v).Addr().Interface().(*[]string)
			n := 0
			for _, s := range vals {
				n += len(s)
			}
			growData(sb.BinaryBuilder, n)
			sb.AppendValues(vals, nil)
		}
	case kindInt32s:
		lb := b.(*array.ListBuilder)
		ib := lb.ValueBuilder().(*array.Int32Builder)
		return func(v reflect.Value) {
			lb.Append(true)
			ib.AppendValues(*get(v).Addr().Interface().(*[]int32), nil)
		}
	case kindBinaries:
		lb := b.(*array.ListBuilder)
		bb := lb.ValueBuilder().(*array.BinaryBuilder)
		return func(v reflect.Value) {
			lb.Append(true)
			vals := *get(v).Addr().Interface().(*[][]byte)
			n := 0
			for _, b := range vals {
				n += len(b)
			}
			growData(bb, n)
			bb.AppendValues(vals, nil)
		}
	}
	// newPlan only produces the kinds above.
	return func(reflect.Value) {}
}

// growData makes room for n more bytes of values in b, at least doubling
// its capacity when it grows. Arrow's AppendValues and AppendStringValues
// reserve exactly what they append, so a row group built from them is
// copied once per row (quadratic: it was most of a scan's CPU).
func growData(b *array.BinaryBuilder, n int) {
	if b.DataLen()+n > b.DataCap() {
		b.ReserveData(max(n, b.DataCap()))
	}
}

// Write appends a row. Every RowGroupRows rows it encodes them into the
// open part, and when the part has PartRows rows it finishes the part. It
// returns the error of that write, if any (the part being written is then
// lost). It returns an error after Close.
func (w *TableWriter[T]) Write(row *T) error {
	if w.closed {
		return fmt.Errorf("write %s row: writer is closed", w.plan.table)
	}
	if row == nil {
		return fmt.Errorf("write %s row: nil row", w.plan.table)
	}
	v := reflect.ValueOf(row).Elem()
	for _, a := range w.appends {
		a(v)
	}
	w.rows++
	if w.rows >= w.opts.RowGroupRows {
		if err := w.writeRowGroup(); err != nil {
			return err
		}
		if w.open.rows >= int64(w.opts.PartRows) {
			return w.finishPart()
		}
	}
	return nil
}

// Flush writes the buffered rows and finishes the open part now; it does
// nothing when there is neither. A part is written to a temporary name in
// the table folder, synced and renamed, so no reader ever sees half a part.
func (w *TableWriter[T]) Flush() error {
	if w.closed {
		return fmt.Errorf("flush %s: writer is closed", w.plan.table)
	}
	if w.rows > 0 {
		if err := w.writeRowGroup(); err != nil {
			return err
		}
	}
	if w.open != nil {
		return w.finishPart()
	}
	return nil
}

// writeRowGroup encodes the buffered rows as a row group of the open part,
// opening a new part first when none is open.
func (w *TableWriter[T]) writeRowGroup() error {
	rec := w.builder.NewRecordBatch()
	defer rec.Release()
	w.rows = 0
	if w.open == nil {
		op, err := w.openPart(partName(w.next))
		if err != nil {
			return fmt.Errorf("write part %s/%s: %w", w.plan.table, partName(w.next), err)
		}
		w.next++
		w.open = op
	}
	if err := w.open.fw.Write(rec); err != nil {
		name := w.open.name
		w.abandon()
		return fmt.Errorf("write part %s/%s: %w", w.plan.table, name, err)
	}
	w.open.rows += rec.NumRows()
	return nil
}

// abandon closes and removes the open part after a failed write, freeing
// the space it took (on a full disk, the room for the manifest).
func (w *TableWriter[T]) abandon() {
	op := w.open
	w.open = nil
	op.fw.Close()
	op.f.Close()
	os.Remove(op.tmp)
}

// openPart creates the part called name under its temporary name and
// starts its Parquet writer with the table's metadata.
func (w *TableWriter[T]) openPart(name string) (op *openPart, err error) {
	final := filepath.Join(w.tableDir, name)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("%s already exists (another writer in this dataset directory?)", final)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tmp := filepath.Join(w.tableDir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	sum := newDigest()
	// io.MultiWriter does not pass Close on, so the Parquet writer leaves
	// f open for Sync.
	cw := io.MultiWriter(f, sum)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(int64(w.opts.RowGroupRows)),
		parquet.WithCreatedBy("danescan"),
		// Plain encoding, then zstd: most columns are near-unique (names,
		// records, chains), where building a dictionary only to drop it
		// costs the writer a third of its CPU; measured on a 50,000-domain
		// DNS-only scan of world.sh, the parts were 40 % smaller too
		// (2.3 MB against 3.8 MB), zstd taking the repeats of the
		// enumerated columns.
		parquet.WithDictionaryDefault(false),
	)
	fw, err := pqarrow.NewFileWriter(w.plan.schema, cw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	meta := [][2]string{{MetaSchemaVersion, SchemaVersion}, {MetaTable, w.plan.table}}
	for _, k := range slices.Sorted(maps.Keys(w.opts.Metadata)) {
		meta = append(meta, [2]string{k, w.opts.Metadata[k]})
	}
	for _, kv := range meta {
		if err := fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			fw.Close()
			return nil, err
		}
	}
	return &openPart{name: name, tmp: tmp, f: f, sum: sum, fw: fw}, nil
}

// finishPart closes the open part's Parquet writer, syncs the file and
// renames it to its final name.
func (w *TableWriter[T]) finishPart() error {
	op := w.open
	w.open = nil
	fail := func(err error) error {
		op.f.Close()
		os.Remove(op.tmp)
		return fmt.Errorf("write part %s/%s: %w", w.plan.table, op.name, err)
	}
	if err := op.fw.Close(); err != nil {
		return fail(err)
	}
	if err := op.f.Sync(); err != nil {
		return fail(err)
	}
	if err := op.f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(op.tmp, filepath.Join(w.tableDir, op.name)); err != nil {
		return fail(err)
	}
	if err := syncDir(w.tableDir); err != nil {
		return fmt.Errorf("write part %s/%s: %w", w.plan.table, op.name, err)
	}
	w.parts = append(w.parts, Part{
		Table:  w.plan.table,
		Path:   path.Join(w.plan.table, op.name),
		Rows:   op.rows,
		Bytes:  op.sum.n,
		SHA256: op.sum.sum(),
	})
	return nil
}

// Close writes the buffered rows, finishes the open part and releases the
// builders. Calling Close again does nothing and returns nil.
func (w *TableWriter[T]) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.closed = true
	w.builder.Release()
	return err
}

// PartCount returns the number of parts finished so far.
func (w *TableWriter[T]) PartCount() int { return len(w.parts) }

// Parts returns the parts written so far, in order.
func (w *TableWriter[T]) Parts() []Part {
	return slices.Clone(w.parts)
}

// digest hashes (SHA-256) and counts the bytes written to it; the input
// readers tee what they read into one, the table writer what it writes.
type digest struct {
	h hash.Hash
	n int64
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) Write(p []byte) (int, error) {
	d.h.Write(p)
	d.n += int64(len(p))
	return len(p), nil
}

// sum returns the hex SHA-256 of what was written.
func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be synced there; renames are durable
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// CheckWritable creates dir if needed and verifies that a file can be
// created in it, so that an unwritable output fails before a scan starts.
// The error is one line naming dir.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".danescan-write-check-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the operation and path of a *fs.PathError, which the
// caller's message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
