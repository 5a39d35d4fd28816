package netconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeObject unmarshals b as a JSON object, turning the decoder's byte
// offsets into line and column numbers: people edit these files by hand and
// "offset 213" tells them nothing.
func decodeObject(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("file is empty")
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(b, se.Offset)
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, se.Error())
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			line, col := lineCol(b, int64(len(b)))
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: unexpected end of input", line, col)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		line, col := lineCol(b, dec.InputOffset())
		return nil, fmt.Errorf("invalid JSON at line %d, column %d: data after the top-level object", line, col)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top level must be a JSON object, not %s", jsonKind(v))
	}
	return obj, nil
}

// lineCol converts a byte offset (the decoder's offset points just past the
// offending byte) into 1-based line and column.
func lineCol(b []byte, off int64) (int, int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off > 0 {
		off-- // point at the offending byte itself
	}
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// jsonKind names a decoded JSON value's type the way a user thinks of it.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
