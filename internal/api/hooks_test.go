package api

// SetExportPage sets how many records an export reads at a time, so that
// tests cross page boundaries with a handful of records.
func (s *Server) SetExportPage(n int) { s.exportPage = n }
