/* foodrm: shared declarations */
