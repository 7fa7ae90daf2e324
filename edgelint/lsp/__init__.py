"""The language server (`edgelint server`): needs the `lsp` extra (pygls)."""
