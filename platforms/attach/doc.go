// Package attach reads the text files users attach to their messages, for
// the platform adapters: it decides which files are text (text/*, .md,
// .txt, .csv, .json, source code), downloads them only from the platform's
// own file hosts, at most a bounded number of bytes each, and reports every
// other file as not read, with the reason (platforms.Attachment).
package attach
