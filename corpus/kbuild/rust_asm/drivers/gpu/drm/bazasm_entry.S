/* bazasm_entry: synthetic assembly */
	.text
