/* bazasm_fast: synthetic assembly */
	.text
