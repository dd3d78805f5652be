package dataset

import (
	"encoding/json"
	"fmt"
)

// detectShape names the dataset's shape from its first row and then holds
// every row to it, so that a chat set with one malformed message fails at
// load time and not in the middle of a run.
func detectShape(name string, rows []Row) (string, error) {
	first := rows[0].Fields
	_, hasMessages := first["messages"]
	_, hasInstruction := first["instruction"]
	_, hasOutput := first["output"]
	switch {
	case hasMessages:
		for _, r := range rows {
			if err := checkMessages(r.Fields["messages"]); err != nil {
				err.File, err.Line = name, r.Line
				return "", err
			}
		}
		return ShapeChat, nil
	case hasInstruction && hasOutput:
		for _, r := range rows {
			for _, f := range []string{"instruction", "output"} {
				if _, ok := r.Fields[f].(string); !ok {
					return "", &Error{File: name, Line: r.Line, Field: f, Msg: shapeMsg(r.Fields, f), Hint: "an Alpaca row has string instruction and output fields (input is optional)"}
				}
			}
			if v, ok := r.Fields["input"]; ok && v != nil {
				if _, ok := v.(string); !ok {
					return "", &Error{File: name, Line: r.Line, Field: "input", Msg: fmt.Sprintf("is %s, not a string", typeName(v)), Hint: "an Alpaca input is a string (empty when there is none)"}
				}
			}
		}
		return ShapeAlpaca, nil
	}
	return ShapePlain, nil
}

func shapeMsg(fields map[string]any, f string) string {
	v, ok := fields[f]
	if !ok {
		return "missing, though the first row has it"
	}
	return fmt.Sprintf("is %s, not a string", typeName(v))
}

func checkMessages(v any) *Error {
	const hint = `a chat row has "messages": [{"role": "user", "content": "..."}, ...]`
	msgs, ok := v.([]any)
	if !ok {
		if v == nil {
			return &Error{Field: "messages", Msg: "missing, though the first row has it", Hint: hint}
		}
		return &Error{Field: "messages", Msg: fmt.Sprintf("is %s, not a list", typeName(v)), Hint: hint}
	}
	if len(msgs) == 0 {
		return &Error{Field: "messages", Msg: "the list is empty", Hint: hint}
	}
	for i, m := range msgs {
		obj, ok := m.(map[string]any)
		if !ok {
			return &Error{Field: fmt.Sprintf("messages[%d]", i), Msg: fmt.Sprintf("is %s, not an object", typeName(m)), Hint: hint}
		}
		if r, ok := obj["role"]; !ok {
			return &Error{Field: fmt.Sprintf("messages[%d].role", i), Msg: "missing", Hint: hint}
		} else if _, ok := r.(string); !ok {
			return &Error{Field: fmt.Sprintf("messages[%d].role", i), Msg: fmt.Sprintf("is %s, not a string", typeName(r)), Hint: hint}
		}
		switch c := obj["content"].(type) {
		case string, []any:
			// A list is OpenAI's content-parts form.
		default:
			if c == nil {
				if _, present := obj["content"]; !present {
					return &Error{Field: fmt.Sprintf("messages[%d].content", i), Msg: "missing", Hint: hint}
				}
				// null content is legal on assistant tool-call turns.
				continue
			}
			return &Error{Field: fmt.Sprintf("messages[%d].content", i), Msg: fmt.Sprintf("is %s, not a string or a list of parts", typeName(c)), Hint: hint}
		}
	}
	return nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
