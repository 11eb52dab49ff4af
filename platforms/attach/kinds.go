package attach

import (
	"mime"
	"path"
	"strings"
)

// textExtensions are file name extensions read as text whatever content
// type the platform reports (platforms often say application/octet-stream
// for source code).
var textExtensions = map[string]bool{
	".txt": true, ".md": true, ".markdown": true, ".csv": true, ".tsv": true, ".json": true, ".jsonl": true,
	".yaml": true, ".yml": true, ".toml": true, ".ini": true, ".cfg": true, ".conf": true, ".log": true,
	".xml": true, ".html": true, ".htm": true, ".css": true, ".scss": true, ".sql": true, ".rst": true, ".tex": true,
	".go": true, ".py": true, ".js": true, ".mjs": true, ".ts": true, ".tsx": true, ".jsx": true, ".java": true,
	".kt": true, ".kts": true, ".scala": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true,
	".cs": true, ".rs": true, ".rb": true, ".php": true, ".swift": true, ".m": true, ".sh": true, ".bash": true,
	".zsh": true, ".ps1": true, ".lua": true, ".pl": true, ".r": true, ".dart": true, ".ex": true, ".exs": true,
	".erl": true, ".hs": true, ".clj": true, ".vue": true, ".svelte": true, ".proto": true, ".graphql": true,
	".dockerfile": true, ".mk": true, ".gradle": true, ".diff": true, ".patch": true,
}

// textTypes are non-text/* content types that are text.
var textTypes = map[string]bool{
	"application/json": true, "application/x-ndjson": true, "application/xml": true, "application/yaml": true,
	"application/x-yaml": true, "application/toml": true, "application/javascript": true,
	"application/x-sh": true, "application/sql": true, "application/x-httpd-php": true,
}

// IsText reports whether a file of this name and content type is read as
// text: a text/* or known text content type, or a text or source code
// extension. Images, audio, video, PDFs and other documents are not.
func IsText(name, contentType string) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		if strings.HasPrefix(mt, "text/") || textTypes[mt] {
			return true
		}
		if strings.HasPrefix(mt, "image/") || strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/") {
			return false
		}
	}
	base := strings.ToLower(path.Base(name))
	if base == "dockerfile" || base == "makefile" || base == "readme" {
		return true
	}
	return textExtensions[path.Ext(base)]
}
