-- Neovim 0.7's built-in LSP client speaking to `edgelint server` (tests/test_lsp_neovim.py):
-- open $EDGELINT_FILE in $EDGELINT_PROJECT, wait for its diagnostics, write them to $EDGELINT_OUT.
local project, file, out = vim.env.EDGELINT_PROJECT, vim.env.EDGELINT_FILE, vim.env.EDGELINT_OUT

local client = vim.lsp.start_client({
  name = "edgelint",
  cmd = { vim.env.EDGELINT_PYTHON, "-m", "edgelint", "server" },
  root_dir = project,
  workspace_folders = { { uri = vim.uri_from_fname(project), name = "project" } },
})
vim.cmd("edit " .. vim.fn.fnameescape(file))
vim.lsp.buf_attach_client(0, client)

vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local found = {}
for _, diagnostic in ipairs(vim.diagnostic.get(0)) do
  local lsp = diagnostic.user_data and diagnostic.user_data.lsp or {}
  table.insert(found, {
    code = lsp.code or diagnostic.code, line = diagnostic.lnum, column = diagnostic.col,
    source = diagnostic.source, message = diagnostic.message,
    related = #(lsp.relatedInformation or {}),
  })
end
vim.fn.writefile({ vim.fn.json_encode(found) }, out)
vim.lsp.stop_client(client)
vim.cmd("qall!")
