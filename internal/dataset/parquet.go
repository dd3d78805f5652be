package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// readParquet reads every row of a Parquet file as a generic map. Line is the
// 1-based row number; Keys follow the file schema's column order.
func readParquet(name string, data []byte) ([]Row, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &Error{File: name, Msg: "not a readable Parquet file: " + err.Error(), Hint: "check the file is Parquet, or set the format to match its content"}
	}
	var keys []string
	for _, field := range f.Schema().Fields() {
		keys = append(keys, field.Name())
	}
	r := parquet.NewReader(f)
	defer r.Close()
	var rows []Row
	for n := 1; ; n++ {
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &Error{File: name, Line: n, Msg: "reading row: " + err.Error()}
		}
		for k, v := range m {
			nv, err := normalizeGo(v)
			if err != nil {
				return nil, &Error{File: name, Line: n, Field: k, Msg: err.Error(), Hint: "store numbers, strings, booleans, lists or structs"}
			}
			m[k] = nv
		}
		rows = append(rows, Row{Line: n, Fields: m, Keys: keys})
	}
	if len(rows) == 0 && f.NumRows() > 0 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("the file declares %d rows but none could be read", f.NumRows())}
	}
	return rows, nil
}
